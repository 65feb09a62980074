import { appError } from '../errors/app-error.js';
import { isChinese } from '../shared/languages.js';
import type { OcrEngine, OcrEngineName, OcrEngineStatus } from './ocr-spec.js';

export const ocrEngineNames: readonly OcrEngineName[] = ['tesseract-js', 'tesseract-cli', 'paddle'];

/** Engine names a request may ask for. */
export type EngineChoice = OcrEngineName | 'auto';

/**
 * The embedded OCR engines and the rule that picks one per request. `auto` prefers
 * PaddleOCR for Chinese (far lower error rate there) and tesseract.js elsewhere (it reads
 * noisy scans and tables better than the native CLI, see OFFLINE-STACK.md); the native
 * CLI serves languages only it has.
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

  private preference(languages: string[]): OcrEngineName[] {
    if (languages.some(isChinese)) return ['paddle', 'tesseract-js', 'tesseract-cli'];
    return ['tesseract-js', 'tesseract-cli', 'paddle'];
  }

  async choose(choice: EngineChoice, languages: string[]): Promise<OcrEngine> {
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
      return this.byName.get(choice)!;
    }
    for (const name of this.preference(languages)) {
      const status = statuses.find((s) => s.name === name);
      if (status && supports(status)) return this.byName.get(name)!;
    }
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
