import type { ChatHistoryItem, Llama, LlamaGrammar, LlamaModel } from 'node-llama-cpp';
import { abortError, appError } from '../../errors/app-error.js';
import { collect, textOf, type ChatChunk, type ChatRequest, type ChatResult } from '../../shared/chat.js';
import type { ChatEngine } from '../chat-spec.js';
import { refuseUnsupported, samplingParameters } from '../unsupported-parameters.js';

/** The OpenAI parameters a local GGUF honours; tools, logprobs, logit_bias and n > 1 are refused by name. */
const honoured = [...samplingParameters, 'seed', 'frequency_penalty', 'presence_penalty', 'stream_options'];
const rules: Record<string, (value: unknown) => boolean> = {
  n: (v) => v === undefined || v === null || v === 1,
  response_format: (v) =>
    v === null ||
    (typeof v === 'object' && ['text', 'json_object', 'json_schema'].includes(String((v as { type?: unknown }).type))),
  // Without tools (they are refused) "auto" and "none" both mean plain text.
  tool_choice: (v) => v === undefined || v === null || v === 'auto' || v === 'none',
  parallel_tool_calls: () => true,
};

export interface LlamaCppOptions {
  /** Path of the .gguf file. */
  path: string;
  contextSize: number;
  /** CPU threads per generation (llama.cpp spin-waits: one per core you give it). */
  threads: number;
  /** Unload the model after this long unused. */
  keepAliveMs: number;
  /** A GPU build of llama.cpp; the default install carries only the CPU builds. */
  gpu?: 'cuda' | 'vulkan';
}

/** Turns callbacks into an async iterator (node-llama-cpp reports chunks by callback). */
class ChunkQueue {
  private items: string[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  push(item: string): void {
    this.items.push(item);
    this.wake?.();
  }
  end(): void {
    this.ended = true;
    this.wake?.();
  }
  async *drain(): AsyncGenerator<string> {
    for (;;) {
      if (this.items.length) {
        yield this.items.shift()!;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/**
 * A local GGUF model through node-llama-cpp (prebuilt llama.cpp from npm, CPU, never
 * built or downloaded at run time). Loaded on first use, unloaded after keep-alive;
 * generation runs on llama.cpp's own threads, off the event loop. The chat template
 * comes from the GGUF.
 */
export class LlamaCppEngine implements ChatEngine {
  readonly vision = false;
  readonly backend: string;
  private model: Promise<LlamaModel> | undefined;
  private idle: NodeJS.Timeout | undefined;

  constructor(private readonly options: LlamaCppOptions) {
    this.backend = `llama-cpp: ${options.path}`;
  }

  isLoaded(): boolean {
    return this.model !== undefined;
  }

  private load(): Promise<LlamaModel> {
    this.model ??= (async () => {
      let module: typeof import('node-llama-cpp');
      try {
        module = await import('node-llama-cpp');
      } catch {
        throw appError(
          'engine_unavailable',
          'node-llama-cpp is not installed (it is an optional dependency: npm install node-llama-cpp)',
        );
      }
      const gpu = this.options.gpu ?? false;
      const llama = await module
        .getLlama({ gpu, build: 'never', logLevel: module.LlamaLogLevel.error })
        .catch((error: Error) => {
          if (!gpu) throw error;
          // The default install leaves GPU builds out (scripts/slim-install.js); say how to bring one in.
          throw appError(
            'engine_unavailable',
            `the ${gpu} build of llama.cpp could not be loaded; the default install carries the CPU build only: run \`npm run llama:gpu -- ${gpu}\` (with the GPU driver installed). ${error.message}`,
          );
        });
      try {
        return await llama.loadModel({ modelPath: this.options.path });
      } catch (error) {
        throw appError(
          'engine_unavailable',
          `cannot load the GGUF model at ${this.options.path}: ${(error as Error).message}`,
        );
      }
    })();
    this.model.catch(() => (this.model = undefined));
    return this.model;
  }

  private touch(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.unload(), this.options.keepAliveMs);
    this.idle.unref();
  }

  /** JSON output through llama.cpp's grammar: any JSON object, or one that matches the given schema. */
  private async grammar(model: LlamaModel, request: ChatRequest): Promise<LlamaGrammar | undefined> {
    const format = request.parameters?.response_format as
      | { type?: string; json_schema?: { schema?: unknown } }
      | null
      | undefined;
    if (format?.type === 'json_object') return model.llama.getGrammarFor('json');
    if (format?.type !== 'json_schema') return undefined;
    try {
      return await model.llama.createGrammarForJsonSchema(
        format.json_schema?.schema as Parameters<Llama['createGrammarForJsonSchema']>[0],
      );
    } catch (error) {
      throw appError(
        'unsupported_parameter',
        `response_format.json_schema.schema cannot be turned into a grammar for this local model: ${(error as Error).message}`,
        { field: 'response_format' },
      );
    }
  }

  async *stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk> {
    refuseUnsupported(request, 'llama-cpp', honoured, rules);
    const messages = request.messages;
    const last = messages[messages.length - 1];
    if (last?.role !== 'user')
      throw appError('invalid_parameter', 'the last message must be from the user', { field: 'messages' });
    const { LlamaChatSession } = await import('node-llama-cpp');
    const model = await this.load();
    clearTimeout(this.idle);
    const grammar = await this.grammar(model, request);
    const context = await model.createContext({ contextSize: this.options.contextSize, threads: this.options.threads });
    try {
      const history: ChatHistoryItem[] = messages
        .slice(0, -1)
        .map((m) =>
          m.role === 'system'
            ? { type: 'system', text: textOf(m) }
            : m.role === 'user'
              ? { type: 'user', text: textOf(m) }
              : { type: 'model', response: [textOf(m)] },
        );
      // A fresh sequence per request: its token meter counts exactly what this request read and wrote.
      const sequence = context.getSequence();
      const session = new LlamaChatSession({ contextSequence: sequence, systemPrompt: '' });
      session.setChatHistory(history);
      const queue = new ChunkQueue();
      const p = request.parameters ?? {};
      const penalties = {
        ...(typeof p.frequency_penalty === 'number' ? { frequencyPenalty: p.frequency_penalty } : {}),
        ...(typeof p.presence_penalty === 'number' ? { presencePenalty: p.presence_penalty } : {}),
      };
      const run = session
        .promptWithMeta(textOf(last), {
          ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
          ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
          ...(request.topP !== undefined ? { topP: request.topP } : {}),
          ...(request.stop?.length ? { customStopTriggers: request.stop } : {}),
          ...(typeof p.seed === 'number' ? { seed: p.seed } : {}),
          ...(Object.keys(penalties).length ? { repeatPenalty: penalties } : {}),
          ...(grammar ? { grammar } : {}),
          ...(signal ? { signal, stopOnAbortSignal: true } : {}),
          onTextChunk: (text) => queue.push(text),
        })
        .finally(() => queue.end());
      run.catch(() => undefined);
      for await (const text of queue.drain()) yield { type: 'delta', content: text };
      const meta = await run;
      if (signal?.aborted) throw abortError(signal);
      // The sequence's own meter counts every token it generated. Its input count leaves out the last
      // prompt token (evaluated in the batch that yields the first answer token), so what the model read,
      // chat template and system prompt included, is the context minus the answer tokens fed back (all but the last).
      const completion = sequence.tokenMeter.usedOutputTokens;
      const prompt =
        completion > 0 ? sequence.contextTokens.length - (completion - 1) : sequence.tokenMeter.usedInputTokens;
      yield {
        type: 'done',
        finishReason: meta.stopReason === 'maxTokens' ? 'length' : 'stop',
        usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      };
    } finally {
      await context.dispose();
      this.touch();
    }
  }

  complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult> {
    return collect(this.stream(request, signal));
  }

  async tokenCounter(): Promise<(text: string) => number> {
    const model = await this.load();
    this.touch();
    return (text) => model.tokenize(text).length;
  }

  async unload(): Promise<void> {
    clearTimeout(this.idle);
    const model = this.model;
    this.model = undefined;
    await model?.then((m) => m.dispose()).catch(() => undefined);
  }
}
