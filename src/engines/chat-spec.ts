/**
 * The chat engine interface: every chat backend (embedded OCR, OpenAI-compatible servers,
 * Ollama, local GGUF) streams the same chunks; `complete` is derived from them. An engine
 * honours each OpenAI parameter it can and refuses the rest by name (unsupported-parameters.ts).
 */
import type { ChatChunk, ChatRequest, ChatResult } from '../shared/chat.js';

export interface ChatEngine {
  /** Reads images itself (a vision model); a text-only model gets images as OCR text. */
  readonly vision: boolean;
  /** Where it runs, for /models listings ("embedded OCR", "openai-compatible: http://…"). */
  readonly backend: string;
  stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk>;
  complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult>;
  /** Local engines: whether weights are in memory now (remote ones are always ready). */
  isLoaded?(): boolean;
  /** Local engines: free the weights; the next request loads them again. */
  unload?(): Promise<void>;
  /** Engines with their own tokenizer: an exact token counter (else estimateTokens). */
  tokenCounter?(): Promise<(text: string) => number>;
}
