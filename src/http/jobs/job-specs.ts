import { randomInt } from 'node:crypto';
import type { HttpServices } from '../http-services.js';
import { readImageParams } from '../../images/params.js';
import { appError } from '../../errors/app-error.js';
import { documentKind } from '../../documents/document.js';
import { jobTypes, type JobSpec, type JobType } from '../../jobs/job.js';
import type { SummarizeOptions } from '../../core/summarize.js';
import type { BatchItem } from '../../jobs/handlers/batch.js';
import { chatJobSpec } from '../../jobs/handlers/chat.js';
import { documentFetchPolicy } from '../fetch-policy.js';
import { parseChatBody } from '../chat-request.js';
import { ocrOptionsFrom } from '../ocr-options.js';
import { documentFromJson, stringFields, type RequestDocument } from '../read-document.js';
import { summarizeDocumentOptions, summarizeOptionsFrom } from '../summarize-options.js';

/** What these routes use of the services. */
export type JobSpecsServices = Pick<HttpServices, 'config' | 'images' | 'models' | 'ocrDefaults' | 'engines'>;

/** A summary naming its model resolves it now: an unknown model is a 404, one the key may not use a 403, at submission. */
const resolveSummaryModel = (services: JobSpecsServices, options: SummarizeOptions): void => {
  if (options.model) services.models.require(options.model);
};

/** Summaries also take DOCX, HTML, Markdown and plain text: those are checked when the job runs. */
const looksLikeText = (bytes: Buffer): boolean =>
  bytes.length > 0 && (bytes.subarray(0, 2).toString('latin1') === 'PK' || !bytes.subarray(0, 512).includes(0));

const hasChat = (services: JobSpecsServices): boolean => services.models.firstConversational() !== undefined;

/**
 * An OCR job of a document, its options validated now so a bad field is a 422 at once, as
 * the synchronous route answers: the engine and languages too (an unknown language is refused
 * here, not when the job runs).
 */
export async function ocrJobSpec(services: JobSpecsServices, document: RequestDocument): Promise<JobSpec> {
  documentKind(document.bytes); // the type now (cheap): junk is a 415 at once, not a failed job
  const options = ocrOptionsFrom(document.fields, services.ocrDefaults);
  await services.engines.choose(options.engine, options.languages);
  return { type: 'ocr', params: { options, filename: document.filename ?? null }, input: document.bytes };
}

export function summarizeTextJobSpec(
  services: JobSpecsServices,
  text: string,
  fields: Record<string, unknown>,
): JobSpec {
  if (!text.trim()) throw appError('invalid_parameter', 'text is empty', { field: 'text' });
  return textSummaryJob(services, text, summarizeOptionsFrom(fields, hasChat(services)));
}

/** A summary of text with options already read (the DeepSynth batch reads them once for all its texts). */
export function textSummaryJob(services: JobSpecsServices, text: string, options: SummarizeOptions): JobSpec {
  resolveSummaryModel(services, options);
  return {
    type: 'summarize',
    params: { options, text, ocr: ocrOptionsFrom({}, services.ocrDefaults), filename: null },
  };
}

export function summarizeDocumentJobSpec(services: JobSpecsServices, document: RequestDocument): JobSpec {
  if (!looksLikeText(document.bytes)) documentKind(document.bytes);
  const { options, ocr } = summarizeDocumentOptions(document.fields, services.ocrDefaults, hasChat(services));
  resolveSummaryModel(services, options);
  return { type: 'summarize', params: { options, ocr, filename: document.filename ?? null }, input: document.bytes };
}

/**
 * A generation: parameters checked, the model chosen and the seed drawn now, so the job's
 * history shows them and a rerun after a crash makes the same images.
 */
export function imageJobSpec(services: JobSpecsServices, body: Record<string, unknown>): JobSpec {
  const { params, init } = readImageParams(body, services.config);
  const model = services.images.resolve(params.model, params.user_id);
  return {
    type: 'image',
    params: { ...params, model, seed: params.seed ?? randomInt(0, 2 ** 32) },
    requested: { ...params, model },
    ...(init ? { input: init } : {}),
  };
}

/** A chat job: the body of POST /v1/chat/completions, parsed and its images fetched now; the job keeps the parsed request. */
async function chatJobSpecOf(services: JobSpecsServices, body: unknown, signal: AbortSignal): Promise<JobSpec> {
  const parsed = await parseChatBody(
    body,
    documentFetchPolicy(services.config),
    signal,
    services.config.limits.maxPromptChars,
    services.models.defaultChatModel,
  );
  // Names the config does not bind are the vLLM proxy's when one is set, as on /v1.
  services.models.requireForChat(parsed.model);
  return chatJobSpec(parsed.model, parsed.request);
}

const asObject = (value: unknown, field: string): Record<string, unknown> => {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw appError('invalid_parameter', `${field} must be an object`, { field });
  return value as Record<string, unknown>;
};

export function jobTypeOf(value: unknown): JobType {
  if (typeof value !== 'string' || !jobTypes.includes(value as JobType))
    throw appError(
      'invalid_parameter',
      `type must be one of ${jobTypes.join(', ')}, received ${JSON.stringify(value) ?? 'nothing'}`,
      { field: 'type', allowed: [...jobTypes] },
    );
  return value as JobType;
}

/**
 * `{type, input, options}` as POST /api/v1/jobs and batch items take it: input holds the
 * document (`data` base64 or `url`, `filename`), `text` to summarize, or the chat request.
 */
export async function jsonJobSpec(
  services: JobSpecsServices,
  body: Record<string, unknown>,
  signal: AbortSignal,
  field = '',
): Promise<JobSpec> {
  const type = jobTypeOf(body.type);
  const input = asObject(body.input, `${field}input`);
  const options = asObject(body.options, `${field}options`);
  switch (type) {
    case 'chat':
      return chatJobSpecOf(services, input, signal);
    case 'summarize':
      if (typeof input.text === 'string') return summarizeTextJobSpec(services, input.text, options);
      return summarizeDocumentJobSpec(services, await documentWithOptions(services, input, options, signal));
    case 'ocr':
      return ocrJobSpec(services, await documentWithOptions(services, input, options, signal));
    case 'image':
      return imageJobSpec(services, { ...input, ...options });
    case 'batch':
      return batchJobSpec(services, input.items, signal);
  }
}

/** The document of `input`, with `options` as its fields (over any the input carried). */
async function documentWithOptions(
  services: JobSpecsServices,
  input: Record<string, unknown>,
  options: Record<string, unknown>,
  signal: AbortSignal,
): Promise<RequestDocument> {
  const document = await documentFromJson(input, {}, documentFetchPolicy(services.config), signal);
  return { ...document, fields: { ...document.fields, ...stringFields(options) } };
}

/** A batch: each item a job spec of its own; their documents laid end to end in one input. */
export async function batchJobSpec(services: JobSpecsServices, items: unknown, signal: AbortSignal): Promise<JobSpec> {
  const max = services.config.jobs.maxBatchItems;
  if (!Array.isArray(items) || items.length === 0)
    throw appError('invalid_parameter', 'items must be a non-empty list of {type, input, options}', { field: 'items' });
  if (items.length > max)
    throw appError(
      'invalid_parameter',
      `a batch holds at most ${max} items (jobs.maxBatchItems); received ${items.length}`,
      { field: 'items', limit: max },
    );
  const specs: JobSpec[] = [];
  for (const [index, item] of items.entries()) {
    const spec = await jsonJobSpec(services, asObject(item, `items[${index}]`), signal, `items[${index}].`);
    if (spec.type === 'batch')
      throw appError('invalid_parameter', `items[${index}]: a batch cannot hold batches`, {
        field: `items[${index}].type`,
      });
    specs.push(spec);
  }
  return joinBatch(specs);
}

/** Lays the items' documents end to end; each item keeps its slice. */
function joinBatch(specs: JobSpec[]): JobSpec {
  let offset = 0;
  const parts: Buffer[] = [];
  const items: BatchItem[] = specs.map((spec) => {
    const item: BatchItem = { type: spec.type as BatchItem['type'], params: spec.params };
    if (spec.input) {
      item.input = { offset, length: spec.input.length };
      parts.push(spec.input);
      offset += spec.input.length;
    }
    return item;
  });
  const drawn = specs.some((spec) => spec.requested);
  return {
    type: 'batch',
    params: { items },
    ...(parts.length ? { input: Buffer.concat(parts) } : {}),
    ...(drawn
      ? { requested: { items: specs.map((spec) => ({ type: spec.type, params: spec.requested ?? spec.params })) } }
      : {}),
  };
}
