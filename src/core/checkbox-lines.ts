import type { Checkbox } from '../documents/checkboxes.js';
import { lineOf, type OcrLine, type OcrWord } from '../shared/ocr-text.js';

const mark = (box: Checkbox): string => (box.checked ? '[√]' : '[ ]');

const overlapArea = (a: OcrWord['bbox'], b: OcrWord['bbox']): number =>
  Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) * Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));

/**
 * Puts each checkbox into the text as `[√]` or `[ ]`, at its place in its line. Whatever
 * the OCR engine read out of the box itself (an "O", "口", "☑") is replaced by the mark.
 */
export function applyCheckboxes(lines: OcrLine[], boxes: Checkbox[]): OcrLine[] {
  if (boxes.length === 0) return lines;
  const words = lines.map((l) => [...l.words]);
  const loose: OcrWord[][] = [];
  for (const box of boxes) {
    const word: OcrWord = { text: mark(box), bbox: box.bbox, confidence: 1 };
    const area = (box.bbox[2] - box.bbox[0]) * (box.bbox[3] - box.bbox[1]);
    for (const list of words) {
      for (let i = list.length - 1; i >= 0; i--) {
        const w = list[i]!;
        const wordArea = Math.max(1, (w.bbox[2] - w.bbox[0]) * (w.bbox[3] - w.bbox[1]));
        if (overlapArea(w.bbox, box.bbox) > 0.5 * Math.min(area, wordArea)) list.splice(i, 1);
      }
    }
    const centre = (box.bbox[1] + box.bbox[3]) / 2;
    const home = words.findIndex((list, i) => {
      const b = lines[i]!.bbox;
      return list.length > 0 && centre > b[1] && centre < b[3];
    });
    if (home >= 0) {
      words[home]!.push(word);
      words[home]!.sort((a, b) => a.bbox[0] - b.bbox[0]);
    } else {
      loose.push([word]);
    }
  }
  const merged = [...words.filter((list) => list.length > 0), ...loose];
  return merged.map(lineOf).sort((a, b) => a.bbox[1] - b.bbox[1] || a.bbox[0] - b.bbox[0]);
}
