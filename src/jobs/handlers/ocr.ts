import { ocrDocument, type OcrDependencies, type OcrOptions, type OcrPageResult } from '../../core/ocr.js';
import { appError } from '../../errors/app-error.js';
import type { JobContext } from '../job.js';

export interface OcrJobParams {
  options: OcrOptions;
  filename: string | null;
}

/** OCR as a job: each page is kept as it finishes (streamed, and not read again after a restart). */
export async function runOcrJob(services: OcrDependencies, context: JobContext): Promise<unknown> {
  const params = context.job.params as unknown as OcrJobParams;
  if (!context.input) throw appError('missing_document', 'the job has no document');
  let done = 0;
  let total = 0;
  const result = await ocrDocument(services, context.input, params.options, context.signal, {
    earlier: context.earlier as ReadonlyMap<number, OcrPageResult>,
    onStart: async (count) => {
      total = count;
      done = [...context.earlier.keys()].length;
      await context.progress({ unit: 'pages', done: Math.min(done, total), total });
    },
    onPage: async (page) => {
      await context.partial(page.page, page);
      await context.progress({ unit: 'pages', done: ++done, total });
    },
  });
  return { ...result, filename: params.filename };
}
