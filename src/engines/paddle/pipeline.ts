/**
 * PP-OCRv4 on onnxruntime-node: DB text detection into rotated boxes, the direction
 * classifier (when its model is installed) and CTC recognition of each rotated crop.
 * Runs inside a worker thread (see paddle-worker.ts); holds one session of each model.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { GreyImage } from '../../documents/raster.js';
import { round3 } from '../../shared/numbers.js';
import { type Bbox, type OcrLine, type OcrPageText, type OcrWord, lineOf } from '../../shared/ocr-text.js';
import {
  boundingBox,
  isVertical,
  minAreaRect,
  readingOrderOfBoxes,
  regions,
  sampleCrop,
  scaleBox,
  unclip,
  readSize,
  type TextBox,
} from './geometry.js';

export interface PaddleModelPaths {
  detectionPath: string;
  recognitionPath: string;
  dictionaryPath: string;
  /** The 0°/180° text direction classifier; optional. */
  classifierPath?: string;
}

/** Longest side fed to the detector; documents need more than PaddleOCR's 960 default. */
const detMaxSide = 1600;
const detThreshold = 0.3;
const boxThreshold = 0.5;
const unclipRatio = 1.6;
const minBoxSide = 3;
const recHeight = 48;
/** PaddleOCR pads short crops to this width (the shape the recogniser was trained on). */
const recMinWidth = 320;
/** Long lines keep their aspect ratio up to here (squeezing them garbles them). */
const recMaxWidth = 4800;
const clsWidth = 192;
const clsThreshold = 0.9;
const clsBatch = 8;
const detMean = [0.485, 0.456, 0.406];
const detStd = [0.229, 0.224, 0.225];

interface Reading {
  text: string;
  confidence: number;
}

export class PaddlePipeline {
  private constructor(
    private readonly det: ort.InferenceSession,
    private readonly rec: ort.InferenceSession,
    private readonly cls: ort.InferenceSession | undefined,
    private readonly dictionary: string[],
  ) {}

  static async load(paths: PaddleModelPaths): Promise<PaddlePipeline> {
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    };
    const [det, rec, cls] = await Promise.all([
      ort.InferenceSession.create(paths.detectionPath, options),
      ort.InferenceSession.create(paths.recognitionPath, options),
      paths.classifierPath ? ort.InferenceSession.create(paths.classifierPath, options) : undefined,
    ]);
    const dictionary = readFileSync(paths.dictionaryPath, 'utf8').split(/\r?\n/);
    if (dictionary[dictionary.length - 1] === '') dictionary.pop();
    return new PaddlePipeline(det, rec, cls, ['', ...dictionary, ' ']);
  }

  async recognize(image: GreyImage): Promise<OcrPageText> {
    const { boxes, skew } = readingOrderOfBoxes(await this.detect(image));
    const flips = await this.classify(image, boxes);
    const lines: OcrLine[] = [];
    for (const [i, box] of boxes.entries()) {
      let read = await this.read(image, box, { quarter: isVertical(box), flip: false });
      // The classifier alone flips good lines now and then ("on pump f…" looks the same upside down):
      // a flip it asks for is kept only when the recogniser is surer of the turned crop.
      const flip = flips[i]!;
      if (flip) {
        const turned = await this.read(image, box, { quarter: isVertical(box), flip });
        if (turned.confidence > read.confidence) read = turned;
      }
      // PaddleOCR turns every tall box a quarter; a lone tall character ("1", "l") reads better as it stands.
      if (isVertical(box) && box.height < 4 * box.width) {
        const asIs = await this.read(image, box, { quarter: false, flip });
        if (asIs.confidence > read.confidence) read = asIs;
      }
      if (read.text.trim()) lines.push(lineOf(wordsOf(read.text, box, read.confidence, image)));
    }
    return { lines, ...(skew === undefined ? {} : { skew }) };
  }

  /** DB detection: probability map → regions → rotated, expanded boxes in page pixels. */
  private async detect(image: GreyImage): Promise<TextBox[]> {
    const scale = Math.min(1, detMaxSide / Math.max(image.width, image.height));
    const w = Math.max(32, Math.round((image.width * scale) / 32) * 32);
    const h = Math.max(32, Math.round((image.height * scale) / 32) * 32);
    const resized = resize(image, w, h);
    const input = new Float32Array(3 * w * h);
    for (let c = 0; c < 3; c++) {
      const offset = c * w * h;
      for (let i = 0; i < w * h; i++) input[offset + i] = (resized[i]! / 255 - detMean[c]!) / detStd[c]!;
    }
    const output = await this.det.run({ [this.det.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, h, w]) });
    const prob = output[this.det.outputNames[0]!]!.data as Float32Array;
    const sx = image.width / w;
    const sy = image.height / h;
    const boxes: TextBox[] = [];
    for (const region of regions(prob, w, h, detThreshold)) {
      if (region.score < boxThreshold) continue;
      const shrunk = minAreaRect(region.points, region.score);
      if (Math.min(shrunk.width, shrunk.height) < minBoxSide) continue;
      const box = scaleBox(unclip(shrunk, unclipRatio), sx, sy);
      if (Math.min(box.width, box.height) < minBoxSide + 2) continue;
      boxes.push(box);
    }
    return boxes;
  }

  /** Which crops are upside down (0°/180° classifier, batched); none when the model is absent. */
  private async classify(image: GreyImage, boxes: TextBox[]): Promise<boolean[]> {
    const flips = boxes.map(() => false);
    if (!this.cls) return flips;
    for (let from = 0; from < boxes.length; from += clsBatch) {
      const batch = boxes.slice(from, from + clsBatch);
      const input = new Float32Array(batch.length * 3 * recHeight * clsWidth);
      batch.forEach((box, b) => {
        const quarter = isVertical(box);
        // The classifier sees 4:1; squeezing a long line into that makes it guess, so it sees the line's start.
        const head = quarter
          ? { ...box, height: Math.min(box.height, 4 * box.width) }
          : { ...box, width: Math.min(box.width, 4 * box.height) };
        const size = readSize(head, quarter);
        const width = Math.min(clsWidth, Math.max(1, Math.ceil((recHeight * size.width) / size.height)));
        fillNormalised(input, b, sampleCrop(image, head, width, recHeight, { quarter, flip: false }), width, clsWidth);
      });
      const output = await this.cls.run({
        [this.cls.inputNames[0]!]: new ort.Tensor('float32', input, [batch.length, 3, recHeight, clsWidth]),
      });
      const probs = output[this.cls.outputNames[0]!]!.data as Float32Array;
      batch.forEach((_, b) => {
        if (probs[b * 2 + 1]! > clsThreshold) flips[from + b] = true;
      });
    }
    return flips;
  }

  /** CTC greedy decoding of one rotated crop. */
  private async read(image: GreyImage, box: TextBox, turn: { quarter: boolean; flip: boolean }): Promise<Reading> {
    const size = readSize(box, turn.quarter);
    const width = Math.min(recMaxWidth, Math.max(8, Math.ceil((recHeight * size.width) / size.height)));
    const padded = Math.max(recMinWidth, width);
    const pixels = sampleCrop(image, box, width, recHeight, turn);
    const input = new Float32Array(3 * padded * recHeight);
    fillNormalised(input, 0, pixels, width, padded);
    const output = await this.rec.run({
      [this.rec.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, recHeight, padded]),
    });
    const tensor = output[this.rec.outputNames[0]!]!;
    const [, steps, classes] = tensor.dims as [number, number, number];
    return this.decode(tensor.data as Float32Array, steps, classes);
  }

  private decode(probs: Float32Array, steps: number, classes: number): Reading {
    let text = '';
    const confidences: number[] = [];
    let previous = 0;
    for (let t = 0; t < steps; t++) {
      let best = 0;
      let bestP = -1;
      for (let k = 0; k < classes; k++) {
        const p = probs[t * classes + k]!;
        if (p > bestP) {
          bestP = p;
          best = k;
        }
      }
      if (best !== 0 && best !== previous) {
        text += this.dictionary[best] ?? '';
        confidences.push(bestP);
      }
      previous = best;
    }
    const confidence = confidences.length ? confidences.reduce((a, b) => a + b, 0) / confidences.length : 0;
    return { text: text.trim(), confidence };
  }
}

/** Writes a grey crop into slot `index` of a [n, 3, 48, slotWidth] tensor, normalised to [-1, 1]; the rest stays 0 (PaddleOCR's padding). */
function fillNormalised(
  input: Float32Array,
  index: number,
  pixels: Uint8Array,
  width: number,
  slotWidth: number,
): void {
  const plane = recHeight * slotWidth;
  const base = index * 3 * plane;
  for (let y = 0; y < recHeight; y++) {
    for (let x = 0; x < width; x++) {
      const value = (pixels[y * width + x]! / 255 - 0.5) / 0.5;
      const at = y * slotWidth + x;
      input[base + at] = value;
      input[base + plane + at] = value;
      input[base + 2 * plane + at] = value;
    }
  }
}

/**
 * Splits a recognised line into words, spreading them along the rotated box by character
 * count, so each word's page box follows the line's slant.
 */
function wordsOf(text: string, box: TextBox, confidence: number, image: GreyImage): OcrWord[] {
  const chars = [...text];
  const total = Math.max(1, chars.length);
  const words: OcrWord[] = [];
  let index = 0;
  for (const m of text.matchAll(/\S+/g)) {
    const start = [...text.slice(0, m.index)].length;
    const length = [...m[0]].length;
    index++;
    const part: TextBox = isVertical(box)
      ? {
          ...box,
          origin: {
            x: box.origin.x + box.v.x * ((box.height * start) / total),
            y: box.origin.y + box.v.y * ((box.height * start) / total),
          },
          height: (box.height * length) / total,
        }
      : {
          ...box,
          origin: {
            x: box.origin.x + box.u.x * ((box.width * start) / total),
            y: box.origin.y + box.u.y * ((box.width * start) / total),
          },
          width: (box.width * length) / total,
        };
    words.push({
      text: m[0],
      bbox: boundingBox(part, image.width, image.height) as Bbox,
      confidence: round3(confidence),
    });
  }
  return index ? words : [{ text, bbox: boundingBox(box, image.width, image.height), confidence: round3(confidence) }];
}

/** Bilinear resize of a grey image. */
function resize(image: GreyImage, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  const sx = image.width / w;
  const sy = image.height / h;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(image.height - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(image.height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(image.width - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(image.width - 1, x0 + 1);
      const wx = fx - x0;
      const d = image.data;
      const top = d[y0 * image.width + x0]! * (1 - wx) + d[y0 * image.width + x1]! * wx;
      const bottom = d[y1 * image.width + x0]! * (1 - wx) + d[y1 * image.width + x1]! * wx;
      out[y * w + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}
