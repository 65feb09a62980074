import type { Config } from '../config/schema.js';
import { appError, type FieldValidation } from '../errors/app-error.js';
import { checkNumber, pydantic } from '../errors/pydantic.js';
import { sniffKind } from '../documents/sniff.js';

/** A generation request, validated, as a job keeps it (JSON; the init image travels beside it). */
export interface ImageParams {
  prompt: string;
  negative_prompt: string;
  num_inference_steps: number;
  guidance_scale: number;
  width: number;
  height: number;
  /** null: drawn at random when the job runs, and returned. */
  seed: number | null;
  n: number;
  /** img2img: how far to move from the init image. */
  strength: number;
  style: string | null;
  /** Model name or alias; null: the user's model, else the default. */
  model: string | null;
  user_id: string;
  /**
   * Fields of OpenAI's images API visiongate does not interpret (quality, OpenAI's own styles,
   * output_format, background, ...): forwarded unchanged to an OpenAI images backend, refused by others.
   */
  openai?: Record<string, unknown>;
}

/** The parameter table of the Stable Diffusion seed (plus what its roadmap asked for). */
export const ranges = {
  num_inference_steps: { min: 1, max: 150, integer: true, default: 30 },
  guidance_scale: { min: 1, max: 20, integer: false, default: 7.5 },
  width: { min: 256, max: 1024, integer: true, multipleOf: 8, default: 512 },
  height: { min: 256, max: 1024, integer: true, multipleOf: 8, default: 512 },
  strength: { min: 0, max: 1, integer: false, default: 0.75 },
  seed: { min: 0, max: 4_294_967_295, integer: true },
} as const;

const maxPromptChars = 10_000;

type Range = { min: number; max: number; integer: boolean; multipleOf?: number };

/** A field error: the message for people, and Pydantic's entry for the FastAPI seed route. */
function invalid(field: string, message: string, validation: FieldValidation, allowed?: string[]): Error {
  return appError(
    'invalid_parameter',
    `${field}: ${message}`,
    { field, ...(allowed ? { allowed } : {}) },
    { validation },
  );
}

/** A number in its range; absent or null is undefined. Numeric strings are taken, as Pydantic does. */
export function rangeField(body: Record<string, unknown>, field: string, range: Range): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const checked = checkNumber(
    value,
    {
      integer: range.integer,
      min: range.min,
      max: range.max,
      ...(range.multipleOf ? { multipleOf: range.multipleOf } : {}),
    },
    ['body', field],
  );
  if ('value' in checked) return checked.value;
  const what = `${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}${range.multipleOf ? ` in steps of ${range.multipleOf}` : ''}`;
  const n = typeof value === 'number' ? value : Number(value);
  const why = {
    greater_than_equal: `; ${n} is below ${range.min}`,
    less_than_equal: `; ${n} is above ${range.max}`,
    multiple_of: `; ${n} is not a multiple of ${range.multipleOf}`,
  }[checked.error.type];
  throw invalid(field, `must be ${what}${why ?? `, received ${JSON.stringify(value)}`}`, checked.error);
}

function stringField(
  body: Record<string, unknown>,
  field: string,
  options: { required?: boolean; max?: number } = {},
): string | undefined {
  const value = body[field];
  const loc = ['body', field];
  if (value === undefined || value === null) {
    // Pydantic echoes the whole body as the input of a missing field.
    if (options.required)
      throw invalid(
        field,
        'is required',
        value === null ? pydantic.stringType(loc, null) : pydantic.missing(loc, body),
      );
    return undefined;
  }
  if (typeof value !== 'string')
    throw invalid(field, `must be a string, received ${JSON.stringify(value)}`, pydantic.stringType(loc, value));
  if (options.required && !value.trim())
    throw invalid(field, 'must not be empty', pydantic.stringTooShort(loc, value, 1));
  if (options.max && value.length > options.max)
    throw invalid(
      field,
      `must be at most ${options.max} characters, received ${value.length}`,
      pydantic.stringTooLong(loc, value, options.max),
    );
  return value;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A base64 image (or data: URL) for img2img, checked to be a picture. */
function initImage(body: Record<string, unknown>, maxBytes: number): Buffer | undefined {
  const value = stringField(body, 'init_image');
  if (value === undefined || value === '') return undefined;
  const data = value.replace(/^data:[^,]*,/, '');
  const notImage = (why: string): FieldValidation => ({
    type: 'value_error',
    loc: ['body', 'init_image'],
    msg: `Value error, init_image ${why}`,
    input: null,
  });
  if (!/^[A-Za-z0-9+/=\s_-]+$/.test(data))
    throw invalid(
      'init_image',
      'must be a base64 image (or a data: URL)',
      notImage('must be a base64 image (or a data: URL)'),
    );
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length > maxBytes)
    throw appError(
      'payload_too_large',
      `init_image is ${bytes.length} bytes; the limit is ${maxBytes} (limits.maxDocumentBytes)`,
      { field: 'init_image', limit: maxBytes },
    );
  const kind = sniffKind(bytes);
  if (!kind || kind === 'pdf')
    throw invalid(
      'init_image',
      'is not a PNG, JPEG, WebP, TIFF, BMP or GIF image',
      notImage('is not a PNG, JPEG, WebP, TIFF, BMP or GIF image'),
    );
  return bytes;
}

/**
 * Reads a generation request (the seed's fields, plus n, negative_prompt, init_image,
 * strength, style, model). Every range error is a 422 naming the field and the range.
 */
export function readImageParams(
  body: Record<string, unknown>,
  config: Readonly<Config>,
): { params: ImageParams; init: Buffer | undefined } {
  const style = stringField(body, 'style') || null;
  const presets = Object.keys(config.images.presets);
  if (style && !presets.includes(style))
    throw invalid(
      'style',
      `unknown style '${style}'; configured styles: ${presets.join(', ') || 'none (images.presets)'}`,
      pydantic.enum(['body', 'style'], style, presets),
      presets,
    );
  const maxImages = config.images.maxImages;
  const init = initImage(body, config.limits.maxDocumentBytes);
  const params: ImageParams = {
    prompt: stringField(body, 'prompt', { required: true, max: maxPromptChars })!,
    negative_prompt: stringField(body, 'negative_prompt', { max: maxPromptChars }) ?? '',
    num_inference_steps:
      rangeField(body, 'num_inference_steps', ranges.num_inference_steps) ?? ranges.num_inference_steps.default,
    guidance_scale: rangeField(body, 'guidance_scale', ranges.guidance_scale) ?? ranges.guidance_scale.default,
    width: rangeField(body, 'width', ranges.width) ?? ranges.width.default,
    height: rangeField(body, 'height', ranges.height) ?? ranges.height.default,
    // -1 is how A1111 and many clients say "random".
    seed: body.seed === -1 || body.seed === '-1' ? null : (rangeField(body, 'seed', ranges.seed) ?? null),
    n: rangeField(body, 'n', { min: 1, max: maxImages, integer: true }) ?? 1,
    strength: rangeField(body, 'strength', ranges.strength) ?? ranges.strength.default,
    style,
    model: stringField(body, 'model') || null,
    user_id: stringField(body, 'user_id', { max: 256 }) || 'default',
    ...(isRecord(body.openai) && Object.keys(body.openai).length ? { openai: body.openai } : {}),
  };
  return { params, init };
}
