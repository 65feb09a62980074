import type { GreyImage } from '../documents/raster.js';
import type { OcrPageText } from '../shared/ocr-text.js';

export type OcrEngineName = 'tesseract-js' | 'tesseract-cli' | 'paddle';

export interface OcrEngineStatus {
  name: OcrEngineName;
  available: boolean;
  /** Why it is not available (binary missing, models missing…). */
  reason?: string;
  /** Tesseract-style language codes it can read (eng, fra, chi_sim…). */
  languages: string[];
  version?: string;
  /** Which models it reads with (e.g. best_int from npm, or the system's). */
  models?: string;
  /** Workers or processes it runs pages on in parallel. */
  concurrency: number;
  loaded: boolean;
}

export interface RecognizeRequest {
  languages: string[];
  /**
   * Tesseract page segmentation mode for this page (3: automatic layout, 6: one uniform
   * block, 11: sparse text); engines without the notion ignore it.
   */
  pageSegmentationMode?: number;
}

/**
 * An embedded OCR engine. Implementations never block the event loop: the work runs
 * in worker threads or child processes. Every engine passes `test/engines/conformance`.
 */
export interface OcrEngine {
  readonly name: OcrEngineName;
  /** It honours `RecognizeRequest.pageSegmentationMode` (Tesseract's engines). */
  readonly pageSegmentation?: boolean;
  /**
   * Present when it reads better from a prepared page: straightened, despeckled, and scaled
   * down to `lineHeight` (text line height, ink extent, pixels, that it reads as well as any
   * larger one) when the text is clearly larger (Tesseract). Absent: it gets the page as it is
   * (PaddleOCR finds rotated boxes and reads through noise itself; measured, preparing the page
   * for it loses spaces between words). A page is shrunk once its text is `shrinkAbove` times
   * `lineHeight` (default 1.25: a line-height estimate can be low, so only clearly large text).
   */
  readonly pagePreparation?: { lineHeight: { latin: number; cjk: number }; shrinkAbove?: number };
  /** Cheap; detection runs once and is cached. Never loads models. */
  status(): Promise<OcrEngineStatus>;
  recognize(image: GreyImage, request: RecognizeRequest, signal?: AbortSignal): Promise<OcrPageText>;
  /** Frees workers, processes and models; the engine loads again on next use. */
  unload(): Promise<void>;
}
