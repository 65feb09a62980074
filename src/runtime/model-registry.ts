import { statSync } from 'node:fs';
import type { ModelConfig } from '../config/schema.js';
import { checkModelAccess } from './model-access.js';
import type { Metrics } from './metrics.js';
import type { ChatEngine } from '../engines/chat-spec.js';
import { parseLanguages } from '../shared/languages.js';
import type { EngineChoice, OcrEngines } from '../engines/ocr-engines.js';
import { OcrChatEngine, type DocumentReader } from '../engines/ocr-chat/ocr-chat-engine.js';
import { LlamaCppEngine } from '../engines/llama-cpp/llama-cpp-engine.js';
import { OllamaEngine } from '../engines/ollama/ollama-engine.js';
import { OpenAiCompatibleEngine } from '../engines/openai-compatible/openai-compatible-engine.js';
import { appError } from '../errors/app-error.js';
import { Semaphore } from '../shared/semaphore.js';

export type Capability = 'ocr' | 'chat' | 'vision' | 'summarize' | 'image';

export interface ModelInfo {
  id: string;
  name: string;
  params: string | null;
  aliases: string[];
  capabilities: Capability[];
  /** What serves it, for people reading /models ("embedded OCR (auto)"). */
  backend: string;
  loaded: boolean;
}

export interface ResolvedModel {
  id: string;
  config: ModelConfig;
}

/** A chat model ready to use: its engine and the gate that bounds its concurrency and queue. */
export interface ChatModel {
  id: string;
  engine: ChatEngine;
  gate: Semaphore;
  /** A real conversational model (remote), rather than the embedded OCR answering with Markdown. */
  conversational: boolean;
  contextTokens: number;
}

export interface RegistryDefaults {
  /** The configured default languages, parsed. */
  languages: string[];
  dpi: number;
}

/** A chat server that takes every model name the config does not bind (the OCRFlux seed's vLLM). */
export type ProxyConfig = NonNullable<ModelConfig['chat']> & { urls: string[]; defaultModel: string; device?: string };

/** Names seen by the proxy at once; past it the oldest idle one's connections are closed. */
const maxProxiedNames = 32;

/**
 * Every model name the server answers to (with aliases), what serves it, and its state.
 * A model counts as loaded from its first use until it is unloaded; unloading frees the
 * engine behind it once no other loaded model still uses that engine.
 */
export interface RegistryDependencies {
  /** What the embedded OCR chat models read their images with. */
  readDocument: DocumentReader;
  metrics?: Metrics;
}

export class ModelRegistry {
  private readonly byName = new Map<string, string>();
  private readonly loaded = new Set<string>();
  private readonly chats = new Map<string, ChatModel>();
  private readonly lastUsed = new Map<string, number>();
  private readonly languages = new Map<string, string[]>();

  constructor(
    private readonly models: Readonly<Record<string, ModelConfig>>,
    private readonly engines: OcrEngines,
    private readonly deps: RegistryDependencies,
    private readonly defaults: RegistryDefaults,
    /** Bytes of local weights allowed in memory at once (0: no budget). */
    private readonly memoryBudget = 0,
    /** Where unbound model names go for chat; without it they are a 404. */
    private readonly proxy?: ProxyConfig,
  ) {
    for (const [id, model] of Object.entries(models)) {
      this.byName.set(id, id);
      for (const alias of model.aliases ?? []) this.byName.set(alias, id);
    }
  }

  get ids(): string[] {
    return Object.keys(this.models);
  }

  /** The model behind a name or alias, or a 404 listing what is available; 403 when the caller's key may not use it. */
  require(name: string): ResolvedModel {
    const id = this.byName.get(name);
    if (!id)
      throw appError('model_not_found', `Model '${name}' not found. Available models: ${this.ids.join(', ')}`, {
        model: name,
        allowed: this.ids,
      });
    checkModelAccess(id);
    return { id, config: this.models[id]! };
  }

  /** The OCR engine choice of a model; a model without OCR says so. */
  ocrEngineOf(name: string): { id: string; engine: EngineChoice; languages: string[] } {
    const { id, config } = this.require(name);
    if (!config.ocr)
      throw appError(
        'capability_unavailable',
        `model '${id}' is not bound to an OCR engine; set models.${id}.ocr in the config`,
        { model: id },
      );
    return { id, engine: config.ocr.engine, languages: this.languagesOf(id) };
  }

  /** A model's OCR languages (models.<id>.ocr.languages, else the default), parsed once. */
  private languagesOf(id: string): string[] {
    let languages = this.languages.get(id);
    if (!languages) {
      languages = parseLanguages(this.models[id]?.ocr?.languages, this.defaults.languages);
      this.languages.set(id, languages);
    }
    return languages;
  }

  /** The model a chat request that names none is for: the proxy's default (OCRFLUX_MODEL), if one is set. */
  get defaultChatModel(): string | undefined {
    return this.proxy?.defaultModel;
  }

  /**
   * The model behind a name for chat: a configured one, or (with a proxy) the name itself,
   * served by the proxy with that name sent upstream.
   */
  requireForChat(name: string): ResolvedModel {
    if (this.byName.has(name) || !this.proxy) return this.require(name);
    checkModelAccess(name);
    return { id: name, config: { chat: this.proxyChat(name) } };
  }

  private proxyChat(model: string): NonNullable<ModelConfig['chat']> {
    const { defaultModel: _default, device: _device, ...chat } = this.proxy!;
    return { ...chat, model };
  }

  /** The chat backend of a model: its own, else the proxy's for a name that defers to it. */
  private chatConfigOf(id: string, config: ModelConfig): ModelConfig['chat'] {
    return config.chat ?? (config.viaProxy && this.proxy ? this.proxyChat(id) : undefined);
  }

  /**
   * The chat engine of a model: its remote backend when one is bound, else the embedded
   * OCR answering image messages with Markdown; names the config does not bind go to the
   * proxy when there is one. Built once, on first use.
   */
  chat(name: string): ChatModel {
    const { id, config } = this.requireForChat(name);
    let model = this.chats.get(id);
    if (!model) {
      if (!this.byName.has(name)) this.forgetIdleProxied();
      const c = this.chatConfigOf(id, config);
      if (c) {
        const remote = {
          urls: c.urls ?? [],
          model: c.model ?? id,
          ...(c.apiKey ? { apiKey: c.apiKey } : {}),
          vision: c.vision,
          timeoutMs: c.timeoutMs,
          connectTimeoutMs: c.connectTimeoutMs,
          maxRetries: c.maxRetries,
          retryStatuses: c.retryStatuses,
        };
        const engine =
          c.backend === 'llama-cpp'
            ? new LlamaCppEngine({
                path: c.path!,
                contextSize: c.contextTokens,
                threads: c.threads,
                keepAliveMs: c.keepAliveMs,
                ...(c.gpu ? { gpu: c.gpu } : {}),
              })
            : c.backend === 'ollama'
              ? new OllamaEngine(remote)
              : new OpenAiCompatibleEngine(remote);
        model = {
          id,
          engine,
          gate: new Semaphore(c.concurrency, c.maxQueue, `model '${id}'`),
          conversational: true,
          contextTokens: c.contextTokens,
        };
      } else if (config.ocr) {
        const languages = this.languagesOf(id);
        model = {
          id,
          engine: new OcrChatEngine(this.deps.readDocument, id, {
            engine: config.ocr.engine,
            languages,
            dpi: this.defaults.dpi,
          }),
          gate: new Semaphore(64, 256, `model '${id}'`),
          conversational: false,
          contextTokens: 0,
        };
      } else {
        throw appError(
          'capability_unavailable',
          `model '${id}' has no chat backend; bind one under models.${id}.chat in the config`,
          { model: id },
        );
      }
      this.chats.set(id, model);
    }
    return model;
  }

  /**
   * Keeps the engines built for proxied names bounded (any client may send any name): past
   * the bound, idle ones are dropped (their kept-alive connections close with them).
   */
  private forgetIdleProxied(): void {
    const proxied = [...this.chats.keys()].filter((id) => !this.byName.has(id));
    for (const id of proxied.slice(0, Math.max(0, proxied.length - maxProxiedNames + 1))) {
      const model = this.chats.get(id)!;
      if (model.gate.inUse || model.gate.queued) continue;
      this.chats.delete(id);
      void model.engine.unload?.();
    }
  }

  /** The first model with a conversational chat backend of its own (not the proxy's), for defaults. */
  firstConversational(): string | undefined {
    return Object.entries(this.models).find(([, c]) => c.chat)?.[0];
  }

  /** The configured device of the backend behind a name (its own, or the proxy's), if known. */
  deviceOf(name: string): string | undefined {
    const id = this.byName.get(name);
    const config = id ? this.models[id]! : undefined;
    if (config?.device) return config.device;
    const proxied = config ? !config.chat && config.viaProxy : true;
    return proxied ? this.proxy?.device : undefined;
  }

  /** Whether a name answers chat with a real conversational backend (its own or the proxy's). */
  converses(name: string): boolean {
    const id = this.byName.get(name);
    return id ? this.chatConfigOf(id, this.models[id]!) !== undefined : this.proxy !== undefined;
  }

  /** Running and waiting requests of each chat model built so far (for metrics). */
  queues(): Array<{ model: string; running: number; waiting: number }> {
    return [...this.chats.values()].map((c) => ({ model: c.id, running: c.gate.inUse, waiting: c.gate.queued }));
  }

  markUsed(id: string): void {
    // Proxied names are whatever clients send: they stay out of the loaded list and the metric labels.
    if (!this.byName.has(id)) return;
    if (!this.loaded.has(id)) this.deps.metrics?.modelEvents.inc({ model: id, event: 'load' });
    this.loaded.add(id);
    this.lastUsed.set(id, performance.now());
  }

  /** Bytes a local model takes when loaded (its GGUF file size); 0 for remote and OCR models. */
  private weightBytes(id: string): number {
    const chat = this.models[id]?.chat;
    if (chat?.backend !== 'llama-cpp' || !chat.path) return 0;
    try {
      return statSync(chat.path).size;
    } catch {
      return 0;
    }
  }

  /**
   * Before a local model loads: unload least recently used local models that are loaded and
   * idle until it fits the memory budget; never one that is busy. 503 when it cannot fit.
   */
  async makeRoom(id: string): Promise<void> {
    const need = this.weightBytes(id);
    if (!this.memoryBudget || !need || this.chats.get(id)?.engine.isLoaded?.()) return;
    const resident = (): string[] =>
      [...this.chats.values()].filter((c) => c.id !== id && c.engine.isLoaded?.()).map((c) => c.id);
    const used = (): number => resident().reduce((sum, other) => sum + this.weightBytes(other), 0);
    while (used() + need > this.memoryBudget) {
      const victim = resident()
        .filter((other) => this.chats.get(other)!.gate.inUse === 0)
        .sort((a, b) => (this.lastUsed.get(a) ?? 0) - (this.lastUsed.get(b) ?? 0))[0];
      if (!victim)
        throw appError(
          'overloaded',
          `model '${id}' does not fit the memory budget (runtime.memoryBudgetMb) while the other loaded models are busy; retry shortly`,
          { model: id },
          { retryAfterSeconds: 5 },
        );
      await this.chats.get(victim)!.engine.unload?.();
      if (this.loaded.delete(victim)) this.deps.metrics?.modelEvents.inc({ model: victim, event: 'unload' });
    }
  }

  loadedIds(): string[] {
    return this.ids.filter((id) => this.loaded.has(id));
  }

  capabilitiesOf(config: ModelConfig): Capability[] {
    const caps = new Set<Capability>();
    // An OCR-bound name also answers /v1 chat requests that carry images (with their
    // Markdown), but it does not converse: 'chat' is kept for real chat backends.
    if (config.ocr) for (const c of ['ocr', 'vision'] as const) caps.add(c);
    if (config.chat || (config.viaProxy && this.proxy)) {
      caps.add('chat');
      caps.add('summarize');
      caps.add('vision'); // images reach it directly, or as OCR text
    }
    if (config.image) caps.add('image');
    return [...caps];
  }

  backendOf(config: ModelConfig): string {
    const parts = [];
    if (!config.chat && config.viaProxy && this.proxy)
      parts.push(`vLLM proxy (compat.vllmProxy): ${this.proxy.urls.join(', ')}`);
    if (config.chat?.backend === 'openai') parts.push(`openai-compatible: ${config.chat.urls?.join(', ')}`);
    if (config.chat?.backend === 'ollama') parts.push(`ollama: ${config.chat.urls?.join(', ')}`);
    if (config.chat?.backend === 'llama-cpp') parts.push(`llama-cpp: ${config.chat.path}`);
    if (config.image)
      parts.push(
        `${config.image.backend === 'openai' ? 'openai-images' : config.image.backend}: ${config.image.urls.join(', ')}`,
      );
    if (config.ocr) parts.push(`embedded OCR (${config.ocr.engine})`);
    return parts.join('; ') || 'none';
  }

  list(): ModelInfo[] {
    return Object.entries(this.models).map(([id, config]) => ({
      id,
      name: config.name ?? id,
      params: config.params ?? null,
      aliases: config.aliases ?? [],
      capabilities: this.capabilitiesOf(config),
      backend: this.backendOf(config),
      // A local model that unloaded itself after its keep-alive is no longer loaded.
      loaded: this.loaded.has(id) && (this.chats.get(id)?.engine.isLoaded?.() ?? true),
    }));
  }

  /** Frees every local chat model (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.chats.values()].map((c) => c.engine.unload?.()));
    this.chats.clear();
  }

  /** Unloads a model; its engine is freed when no other loaded model uses it. */
  async unload(name: string): Promise<{ id: string; wasLoaded: boolean }> {
    const { id, config } = this.require(name);
    const wasLoaded = this.loaded.delete(id);
    if (wasLoaded) this.deps.metrics?.modelEvents.inc({ model: id, event: 'unload' });
    await this.chats.get(id)?.engine.unload?.();
    this.chats.delete(id);
    const engine = config.ocr?.engine;
    const stillUsed = [...this.loaded].some((other) => this.models[other]?.ocr?.engine === engine);
    if (engine && !stillUsed) {
      // "auto" may have used any engine: free them all.
      const targets = engine === 'auto' ? this.engines.all : this.engines.all.filter((e) => e.name === engine);
      await Promise.all(targets.map((e) => e.unload()));
    }
    return { id, wasLoaded };
  }
}
