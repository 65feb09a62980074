/** Calls to visiongate, with the API key from session storage when one is set. */
const keyName = 'visiongate.apiKey';

export function apiKey(): string {
  return sessionStorage.getItem(keyName) ?? '';
}

export function setApiKey(value: string): void {
  if (value) sessionStorage.setItem(keyName, value);
  else sessionStorage.removeItem(keyName);
}

/** An error answer, with the server's own words (problem+json `detail`, or `{detail}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('accept', 'application/json');
  if (apiKey()) headers.set('authorization', `Bearer ${apiKey()}`);
  const response = await fetch(path, { ...init, headers });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = (body as { detail?: unknown } | null)?.detail;
    throw new ApiError(response.status, typeof detail === 'string' ? detail : `HTTP ${response.status}`);
  }
  return body as T;
}

export interface Word {
  text: string;
  bbox: [number, number, number, number];
  confidence: number;
}

export interface Page {
  page: number;
  width: number;
  height: number;
  source: 'text-layer' | 'ocr';
  engine: string;
  text: string;
  confidence: number;
  words: Word[];
  preview?: { data_url: string; width: number; height: number };
}

export interface OcrResult {
  text: string;
  markdown: string;
  pages: Page[];
  timings: { total_ms: number };
}

export interface Summary {
  summary: string;
  compression_ratio: number;
  sentences: { total: number; selected: number[] };
}

export interface Health {
  status: string;
  engines: Record<string, { available: boolean; languages: string[]; reason?: string }>;
}

export interface ModelList {
  models: Array<{ id: string; capabilities: string[] }>;
}
