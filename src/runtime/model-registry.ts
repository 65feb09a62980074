import type { ModelConfig } from '../config/schema.js';
import type { EngineChoice, OcrEngines } from '../engines/ocr-engines.js';
import { appError } from '../errors/app-error.js';

export type Capability = 'ocr' | 'chat' | 'vision' | 'summarize' | 'image';

export interface ModelInfo {
  id: string;
  name: string;
  params: string | null;
  aliases: string[];
  capabilities: Capability[];
  /** What serves it, for people reading /models ("embedded OCR: auto"). */
  backend: string;
  loaded: boolean;
}

export interface ResolvedModel {
  id: string;
  config: ModelConfig;
}

/**
 * Every model name the server answers to (with aliases) and its state. A model counts as
 * loaded from its first use until it is unloaded; unloading frees the engine behind it
 * once no other loaded model still uses that engine.
 */
export class ModelRegistry {
  private readonly byName = new Map<string, string>();
  private readonly loaded = new Set<string>();

  constructor(
    private readonly models: Readonly<Record<string, ModelConfig>>,
    private readonly engines: OcrEngines,
  ) {
    for (const [id, model] of Object.entries(models)) {
      this.byName.set(id, id);
      for (const alias of model.aliases ?? []) this.byName.set(alias, id);
    }
  }

  get ids(): string[] {
    return Object.keys(this.models);
  }

  /** The model behind a name or alias, or a 404 listing what is available. */
  require(name: string): ResolvedModel {
    const id = this.byName.get(name);
    if (!id) throw appError('model_not_found', `Model '${name}' not found. Available models: ${this.ids.join(', ')}`, { model: name, allowed: this.ids });
    return { id, config: this.models[id]! };
  }

  /** The OCR engine choice of a model; a model without OCR says so. */
  ocrEngineOf(name: string): { id: string; engine: EngineChoice; languages?: string } {
    const { id, config } = this.require(name);
    if (!config.ocr) throw appError('capability_unavailable', `model '${id}' is not bound to an OCR engine; set models.${id}.ocr in the config`, { model: id });
    return { id, engine: config.ocr.engine, ...(config.ocr.languages ? { languages: config.ocr.languages } : {}) };
  }

  markUsed(id: string): void {
    this.loaded.add(id);
  }

  loadedIds(): string[] {
    return this.ids.filter((id) => this.loaded.has(id));
  }

  capabilitiesOf(config: ModelConfig): Capability[] {
    return config.ocr ? ['ocr', 'vision'] : [];
  }

  list(): ModelInfo[] {
    return Object.entries(this.models).map(([id, config]) => ({
      id,
      name: config.name ?? id,
      params: config.params ?? null,
      aliases: config.aliases ?? [],
      capabilities: this.capabilitiesOf(config),
      backend: config.ocr ? `embedded OCR (${config.ocr.engine})` : 'none',
      loaded: this.loaded.has(id),
    }));
  }

  /** Unloads a model; its engine is freed when no other loaded model uses it. */
  async unload(name: string): Promise<{ id: string; wasLoaded: boolean }> {
    const { id, config } = this.require(name);
    const wasLoaded = this.loaded.delete(id);
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
