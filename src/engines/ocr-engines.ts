import { appError } from '../errors/app-error.js';
import type { OcrEngine, OcrEngineName, OcrEngineStatus } from './ocr-spec.js';

export const ocrEngineNames: readonly OcrEngineName[] = ['tesseract-js', 'tesseract-cli', 'paddle'];

/** Engine names a request may ask for. */
export type EngineChoice = OcrEngineName | 'auto';

/**
 * The embedded OCR engines and the rule that ranks them per request (see `preference`);
 * the core tries the next one on a page the first reads empty or unsure.
 */
export class OcrEngines {
  private readonly byName: Map<OcrEngineName, OcrEngine>;

  constructor(engines: OcrEngine[]) {
    this.byName = new Map(engines.map((e) => [e.name, e]));
  }

  get all(): OcrEngine[] {
    return [...this.byName.values()];
  }

  statuses(): Promise<OcrEngineStatus[]> {
    return Promise.all(this.all.map((e) => e.status()));
  }

  /**
   * Order of preference for `auto`: the native binary first when it reads with the npm best_int
   * models (the same models as tesseract.js, at native speed), then tesseract.js, then PaddleOCR
   * (it reads lines, not words, and no accents). Chinese too: on the development set's six
   * Chinese manual pages (clean and scanned) best_int Tesseract reads at 8.9 % CER on average
   * against PaddleOCR's 10.0 %, at a fraction of its CPU (PaddleOCR wins on some pages, loses
   * more on others).
   */
  private preference(statuses: OcrEngineStatus[]): OcrEngineName[] {
    const nativeBest = statuses.some(
      (s) => s.name === 'tesseract-cli' && s.available && s.models?.startsWith('best_int'),
    );
    const tesseracts: OcrEngineName[] = nativeBest
      ? ['tesseract-cli', 'tesseract-js']
      : ['tesseract-js', 'tesseract-cli'];
    return [...tesseracts, 'paddle'];
  }

  /** The engine for a request: the named one (checked), or the first `auto` would use. */
  async choose(choice: EngineChoice, languages: string[]): Promise<OcrEngine> {
    return (await this.rank(choice, languages))[0]!;
  }

  /**
   * Engines that can serve the request, best first: just the named engine (checked), or for
   * `auto` every installed engine that reads all the languages, in order of preference (the
   * caller tries the next one when a page comes back empty or unsure).
   */
  async rank(choice: EngineChoice, languages: string[]): Promise<OcrEngine[]> {
    const statuses = await this.statuses();
    const supports = (s: OcrEngineStatus): boolean => s.available && languages.every((l) => s.languages.includes(l));
    if (choice !== 'auto') {
      const status = statuses.find((s) => s.name === choice);
      if (!status)
        throw appError(
          'invalid_parameter',
          `engine: "${choice}" is not an OCR engine here; use one of auto, ${[...this.byName.keys()].join(', ')}`,
          { field: 'engine', allowed: ['auto', ...this.byName.keys()] },
        );
      if (!status.available)
        throw appError(
          'engine_unavailable',
          `engine "${choice}" is not available: ${status.reason ?? 'unknown reason'}`,
          { engine: choice },
        );
      if (!supports(status))
        throw appError(
          'unsupported_language',
          `engine "${choice}" cannot read ${languages.filter((l) => !status.languages.includes(l)).join(', ')}; it has ${status.languages.join(', ')}`,
          { allowed: status.languages },
        );
      return [this.byName.get(choice)!];
    }
    const ranked = this.preference(statuses).flatMap((name) => {
      const status = statuses.find((s) => s.name === name);
      return status && supports(status) ? [this.byName.get(name)!] : [];
    });
    if (ranked.length) return ranked;
    const installed = [...new Set(statuses.filter((s) => s.available).flatMap((s) => s.languages))].sort();
    throw appError(
      'unsupported_language',
      `no installed engine reads ${languages.join('+')}; installed languages: ${installed.join(', ')}. See the README ("Languages") to add more.`,
      { allowed: installed },
    );
  }

  async unload(): Promise<void> {
    await Promise.all(this.all.map((e) => e.unload()));
  }
}
