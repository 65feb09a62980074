/**
 * PP-OCRv4 on onnxruntime-node: DB text detection, then CTC recognition of each box.
 * Runs inside a worker thread (see paddle-worker.ts); holds one session of each model.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { GreyImage } from '../../documents/raster.js';
import { round3 } from '../../shared/numbers.js';
import { type Bbox, type OcrLine, type OcrWord, lineOf } from '../../shared/ocr-text.js';

export interface PaddleModelPaths {
  detectionPath: string;
  recognitionPath: string;
  dictionaryPath: string;
}

/** Longest side fed to the detector; documents need more than PaddleOCR's 960 default. */
const detMaxSide = 1600;
const detThreshold = 0.3;
const boxThreshold = 0.5;
const unclipRatio = 1.6;
const recHeight = 48;
const recMaxWidth = 1600;
const detMean = [0.485, 0.456, 0.406];
const detStd = [0.229, 0.224, 0.225];

export class PaddlePipeline {
  private constructor(
    private readonly det: ort.InferenceSession,
    private readonly rec: ort.InferenceSession,
    private readonly dictionary: string[],
  ) {}

  static async load(paths: PaddleModelPaths): Promise<PaddlePipeline> {
    const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
    const [det, rec] = await Promise.all([ort.InferenceSession.create(paths.detectionPath, options), ort.InferenceSession.create(paths.recognitionPath, options)]);
    const dictionary = readFileSync(paths.dictionaryPath, 'utf8').split(/\r?\n/);
    if (dictionary[dictionary.length - 1] === '') dictionary.pop();
    return new PaddlePipeline(det, rec, ['', ...dictionary, ' ']);
  }

  async recognize(image: GreyImage): Promise<OcrLine[]> {
    const boxes = await this.detect(image);
    const lines: OcrLine[] = [];
    for (const box of boxes) {
      const read = await this.read(image, box);
      if (read.text.trim()) lines.push(lineOf(wordsOf(read.text, box, read.confidence)));
    }
    return lines;
  }

  /** DB detection: probability map → connected components → expanded boxes in page pixels. */
  private async detect(image: GreyImage): Promise<Bbox[]> {
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
    return components(prob, w, h)
      .filter((c) => c.score >= boxThreshold && c.x1 - c.x0 >= 2 && c.y1 - c.y0 >= 2)
      .map((c) => {
        const bw = c.x1 - c.x0 + 1;
        const bh = c.y1 - c.y0 + 1;
        const d = (bw * bh * unclipRatio) / (2 * (bw + bh));
        return [
          Math.max(0, Math.floor((c.x0 - d) * sx)),
          Math.max(0, Math.floor((c.y0 - d) * sy)),
          Math.min(image.width, Math.ceil((c.x1 + 1 + d) * sx)),
          Math.min(image.height, Math.ceil((c.y1 + 1 + d) * sy)),
        ] as Bbox;
      })
      .sort((a, b) => (Math.abs(a[1] - b[1]) < 0.5 * Math.min(a[3] - a[1], b[3] - b[1]) ? a[0] - b[0] : a[1] - b[1]));
  }

  /** CTC greedy decoding of one cropped line. */
  private async read(image: GreyImage, box: Bbox): Promise<{ text: string; confidence: number }> {
    const cropW = box[2] - box[0];
    const cropH = box[3] - box[1];
    const w = Math.min(recMaxWidth, Math.max(16, Math.round((recHeight * cropW) / cropH)));
    const pixels = resize(crop(image, box), w, recHeight);
    const input = new Float32Array(3 * w * recHeight);
    for (let c = 0; c < 3; c++) for (let i = 0; i < pixels.length; i++) input[c * pixels.length + i] = (pixels[i]! / 255 - 0.5) / 0.5;
    const output = await this.rec.run({ [this.rec.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, recHeight, w]) });
    const tensor = output[this.rec.outputNames[0]!]!;
    const [, steps, classes] = tensor.dims as [number, number, number];
    const probs = tensor.data as Float32Array;
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

/** Splits a recognised line into words, spreading the line box by character count. */
function wordsOf(text: string, box: Bbox, confidence: number): OcrWord[] {
  const perChar = (box[2] - box[0]) / Math.max(1, text.length);
  return [...text.matchAll(/\S+/g)].map((m) => ({
    text: m[0],
    bbox: [Math.round(box[0] + m.index * perChar), box[1], Math.round(box[0] + (m.index + m[0].length) * perChar), box[3]] as Bbox,
    confidence: round3(confidence),
  }));
}

interface Component {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  score: number;
}

/** 4-connected components of the thresholded map, with their mean probability. */
function components(prob: Float32Array, w: number, h: number): Component[] {
  const seen = new Uint8Array(w * h);
  const stack = new Int32Array(w * h);
  const found: Component[] = [];
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || prob[start]! < detThreshold) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    const c: Component = { x0: w, y0: h, x1: 0, y1: 0, score: 0 };
    let count = 0;
    while (top) {
      const at = stack[--top]!;
      const x = at % w;
      const y = (at - x) / w;
      c.x0 = Math.min(c.x0, x);
      c.x1 = Math.max(c.x1, x);
      c.y0 = Math.min(c.y0, y);
      c.y1 = Math.max(c.y1, y);
      c.score += prob[at]!;
      count++;
      const neighbours = [x > 0 ? at - 1 : -1, x < w - 1 ? at + 1 : -1, y > 0 ? at - w : -1, y < h - 1 ? at + w : -1];
      for (const n of neighbours) {
        if (n >= 0 && !seen[n] && prob[n]! >= detThreshold) {
          seen[n] = 1;
          stack[top++] = n;
        }
      }
    }
    c.score /= count;
    found.push(c);
  }
  return found;
}

function crop(image: GreyImage, box: Bbox): GreyImage {
  const [x0, y0, x1, y1] = box;
  const width = Math.max(1, x1 - x0);
  const height = Math.max(1, y1 - y0);
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) data.set(image.data.subarray((y0 + y) * image.width + x0, (y0 + y) * image.width + x0 + width), y * width);
  return { width, height, data };
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
