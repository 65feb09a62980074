import type { OcrOptions } from '../../core/ocr.js';
import { summarizeDocument, summarizeText, type SummarizeOptions } from '../../core/summarize.js';
import type { ChatDependencies } from '../../core/chat.js';
import type { JobContext } from '../job.js';

export interface SummarizeJobParams {
  options: SummarizeOptions;
  /** Text to summarize; otherwise the job's document. */
  text?: string;
  ocr: Omit<OcrOptions, 'pages'>;
  filename: string | null;
}

/** A summary as a job; an abstractive one reports the tokens written so far (at most 4 updates a second). */
export async function runSummarizeJob(services: ChatDependencies, context: JobContext): Promise<unknown> {
  const params = context.job.params as unknown as SummarizeJobParams;
  let tokens = 0;
  let reported = 0;
  const onDelta = (): void => {
    tokens++;
    if (performance.now() - reported < 250) return;
    reported = performance.now();
    void context.progress({ unit: 'tokens', done: tokens });
  };
  const result =
    params.text !== undefined
      ? await summarizeText(services, params.text, params.options, context.signal, {}, onDelta)
      : await summarizeDocument(
          services,
          context.input ?? Buffer.alloc(0),
          params.filename ?? undefined,
          params.options,
          params.ocr,
          context.signal,
          onDelta,
        );
  return { ...result, filename: params.filename };
}
