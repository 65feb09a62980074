/**
 * Extractive summarization: LexRank-style centrality over TF-IDF sentence vectors, a
 * light lead prior, redundancy removal, and the chosen sentences in their original order.
 * Deterministic, no model weights, any language Intl.Segmenter knows.
 */
import { segments, sentences as splitSentences, words, type Sentence } from './sentences.js';

export interface ExtractiveOptions {
  /** Upper bound on the summary's length, in words (ICU word segments). */
  maxWords: number;
}

export interface ExtractiveSummary {
  summary: string;
  sentenceCount: number;
  selected: number[];
}

/** A sparse TF-IDF vector: term ids ascending, their weights, and the norm. */
interface Vector {
  ids: Int32Array;
  weights: Float64Array;
  norm: number;
}

function tfidfVectors(sentences: Sentence[]): Vector[] {
  const ids = new Map<string, number>();
  const df: number[] = [];
  const counted = sentences.map((s) => {
    const tf = new Map<number, number>();
    for (const token of s.tokens) {
      let id = ids.get(token);
      if (id === undefined) ids.set(token, (id = ids.size));
      tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    for (const id of tf.keys()) df[id] = (df[id] ?? 0) + 1;
    return tf;
  });
  const n = sentences.length;
  return counted.map((tf) => {
    const sorted = [...tf.keys()].sort((a, b) => a - b);
    const weights = new Float64Array(sorted.map((id) => tf.get(id)! * Math.log(1 + n / df[id]!)));
    return { ids: Int32Array.from(sorted), weights, norm: Math.sqrt(weights.reduce((sum, w) => sum + w * w, 0)) };
  });
}

function cosine(a: Vector, b: Vector): number {
  if (!a.norm || !b.norm) return 0;
  let dot = 0;
  for (let i = 0, j = 0; i < a.ids.length && j < b.ids.length; ) {
    const x = a.ids[i]!;
    const y = b.ids[j]!;
    if (x === y) dot += a.weights[i++]! * b.weights[j++]!;
    else if (x < y) i++;
    else j++;
  }
  return dot / (a.norm * b.norm);
}

/** Continuous LexRank: PageRank over the cosine-similarity graph. */
function centrality(similarity: number[][]): number[] {
  const n = similarity.length;
  // Row-normalised transition weights, computed once.
  const transitions = similarity.map((row) => {
    let sum = 0;
    for (const v of row) sum += v;
    if (!sum) return undefined;
    const normalised = new Float64Array(row.length);
    for (let j = 0; j < row.length; j++) normalised[j] = row[j]! / sum;
    return normalised;
  });
  let rank = new Float64Array(n).fill(1 / n);
  const damping = 0.85;
  for (let iteration = 0; iteration < 60; iteration++) {
    const next = new Float64Array(n).fill((1 - damping) / n);
    for (let i = 0; i < n; i++) {
      const row = transitions[i];
      if (!row) continue;
      const share = damping * rank[i]!;
      for (let j = 0; j < n; j++) next[j]! += share * row[j]!;
    }
    let delta = 0;
    for (let i = 0; i < n; i++) delta += Math.abs(next[i]! - rank[i]!);
    rank = next;
    if (delta < 1e-7) break;
  }
  return [...rank];
}

const minWords = 4;
const redundancy = 0.55;
/** Largest sentence graph ranked at once; longer texts are reduced block by block first. */
const maxGraph = 250;

interface Ranked {
  similarity: number[][];
  scores: number[];
}

function rank(candidates: Sentence[]): Ranked {
  const vectors = tfidfVectors(candidates);
  const n = vectors.length;
  const similarity = vectors.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) similarity[i]![j] = similarity[j]![i] = cosine(vectors[i]!, vectors[j]!);
  }
  const centralities = centrality(similarity);
  // A light lead prior: openings tend to carry the point, but centrality decides.
  return { similarity, scores: candidates.map((_, i) => centralities[i]! * (1 + 0.25 * (1 - i / candidates.length))) };
}

/** Map-reduce for long documents: keep each block's most central sentences, then rank those. */
function reduce(candidates: Sentence[]): Sentence[] {
  let pool = candidates;
  while (pool.length > maxGraph) {
    const blocks = Math.ceil(pool.length / maxGraph);
    const keep = Math.max(5, Math.floor(maxGraph / blocks));
    const next: Sentence[] = [];
    for (let b = 0; b < blocks; b++) {
      const block = pool.slice(b * maxGraph, (b + 1) * maxGraph);
      const { scores } = rank(block);
      const best = block
        .map((_, i) => i)
        .sort((x, y) => scores[y]! - scores[x]! || x - y)
        .slice(0, keep)
        .sort((x, y) => x - y);
      next.push(...best.map((i) => block[i]!));
    }
    pool = next;
  }
  return pool;
}

export function summarizeExtractive(text: string, options: ExtractiveOptions): ExtractiveSummary {
  const all = splitSentences(text);
  const candidates = reduce(all.filter((s) => s.tokens.length >= minWords));
  if (candidates.length === 0) {
    const fallback = words(text).length <= options.maxWords ? text.trim() : truncate(text.trim(), options.maxWords);
    return { summary: fallback, sentenceCount: all.length, selected: [] };
  }
  const { similarity, scores } = rank(candidates);
  const order = candidates.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);

  const chosen: number[] = [];
  let used = 0;
  for (const i of order) {
    const length = candidates[i]!.tokens.length;
    if (used + length > options.maxWords) continue;
    if (chosen.some((j) => similarity[i]![j]! > redundancy)) continue;
    chosen.push(i);
    used += length;
  }
  if (chosen.length === 0) {
    // Even the best sentence is longer than allowed: cut it at a word boundary.
    const best = candidates[order[0]!]!;
    return { summary: truncate(best.text, options.maxWords), sentenceCount: all.length, selected: [best.index] };
  }
  chosen.sort((a, b) => a - b);
  return {
    summary: chosen.map((i) => candidates[i]!.text).join(' '),
    sentenceCount: all.length,
    selected: chosen.map((i) => candidates[i]!.index),
  };
}

/** The first `maxWords` words of a sentence, with an ellipsis. */
function truncate(text: string, maxWords: number): string {
  let count = 0;
  let end = 0;
  for (const segment of segments(new Intl.Segmenter(undefined, { granularity: 'word' }), text)) {
    if (segment.isWordLike && ++count > maxWords) break;
    end = segment.index + segment.segment.length;
  }
  return `${text.slice(0, end).trimEnd()}…`;
}
