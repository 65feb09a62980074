/**
 * OpenAI's images API as its reference documents it: POST /v1/images/generations (JSON:
 * model, prompt, n, size, response_format url|b64_json) and /v1/images/edits (multipart with
 * `image`), answering `{created, data: [{b64_json | url}]}`, errors as
 * `{error: {message, type, param, code}}`, unknown fields refused as OpenAI does, unless
 * `localai` (which also reads seed and step, and a "positive|negative" prompt). With `stream: true`
 * it streams as OpenAI's image streaming does: `partial_images` events `image_generation.partial_image`
 * (b64_json, partial_image_index), then one `image_generation.completed` per image with its usage.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  createServer,
  json,
  listen,
  newState,
  readBody,
  readForm,
  renderImage,
  renderPreview,
  sleep,
  type FakeBackendState,
} from './render.js';

export interface FakeOpenAiImages extends FakeBackendState {
  /** Base URL ending in /v1. */
  url: string;
  localai: boolean;
  /** Authorization headers received. */
  authorizations: Array<string | undefined>;
  /** Fails the next stream after its first partial image, with this message in an `error` event. */
  failMidStream?: string | undefined;
  close(): Promise<void>;
}

const known = new Set([
  'model',
  'prompt',
  'n',
  'size',
  'response_format',
  'quality',
  'style',
  'user',
  'image',
  'stream',
  'partial_images',
]);

/** The usage a GPT image model reports. */
export const fakeImageUsage = {
  total_tokens: 4176,
  input_tokens: 16,
  output_tokens: 4160,
  input_tokens_details: { text_tokens: 16, image_tokens: 0 },
};

export async function startFakeOpenAiImages(): Promise<FakeOpenAiImages> {
  const state: Omit<FakeOpenAiImages, 'url' | 'close'> = {
    ...newState(),
    localai: false,
    authorizations: [] as Array<string | undefined>,
  };
  const files = new Map<string, Buffer>();
  let root = '';
  const invalid = (param: string, message: string) => ({
    status: 400,
    body: { error: { message, type: 'invalid_request_error', param, code: null } },
  });

  const generate = async (body: Record<string, unknown>, init?: Buffer): Promise<{ status: number; body: unknown }> => {
    state.received.push(body);
    const fail = state.fail;
    state.fail = undefined;
    if (fail)
      return {
        status: fail.status,
        body: {
          error: {
            message: fail.message,
            type: fail.status >= 500 ? 'server_error' : 'invalid_request_error',
            param: null,
            code: null,
          },
        },
      };
    const extra = Object.keys(body).filter((k) => !known.has(k) && !(state.localai && (k === 'seed' || k === 'step')));
    if (extra.length) return invalid(extra[0]!, `Unrecognized request argument supplied: ${extra[0]}`);
    if (typeof body.prompt !== 'string' || !body.prompt)
      return invalid('prompt', "Missing required parameter: 'prompt'.");
    const n = Number(body.n ?? 1);
    if (!Number.isInteger(n) || n < 1 || n > 10) return invalid('n', `${body.n} is not a valid n: between 1 and 10`);
    const size = /^(\d+)x(\d+)$/.exec(String(body.size ?? '1024x1024'));
    if (!size) return invalid('size', `'${body.size}' is not one of the supported sizes`);
    if (state.stepDelayMs) await sleep(state.stepDelayMs * 10);
    const failMidRun = state.failMidRun;
    state.failMidRun = undefined;
    // The images API answers once, at the end: a run failing midway is a 500 after a while.
    if (failMidRun) {
      await sleep(20 * failMidRun.afterSteps);
      return {
        status: 500,
        body: { error: { message: failMidRun.message, type: 'server_error', param: null, code: null } },
      };
    }
    const [prompt, negative] = state.localai ? String(body.prompt).split('|') : [String(body.prompt), ''];
    const seed = state.localai && body.seed !== undefined ? Number(body.seed) : 0;
    const steps = state.localai && body.step !== undefined ? Number(body.step) : 50;
    const initDigest = init ? createHash('sha256').update(init).digest('hex') : undefined;
    const images = await Promise.all(
      Array.from({ length: n }, (_, index) =>
        renderImage({
          prompt: prompt!,
          negative: negative ?? '',
          seed,
          steps,
          guidance: 0,
          width: Number(size[1]),
          height: Number(size[2]),
          index,
          ...(initDigest ? { init: initDigest } : {}),
        }),
      ),
    );
    if (body.stream === true)
      return { status: 200, body: { stream: images, partials: Number(body.partial_images ?? 0) } };
    const data = images.map((png, index) => {
      if (body.response_format === 'b64_json') return { b64_json: png.toString('base64') };
      const name = `${createHash('sha256').update(png).digest('hex').slice(0, 16)}-${index}.png`;
      files.set(name, png);
      return { url: `${root}/files/${name}` };
    });
    return { status: 200, body: { created: 1700000000, data } };
  };

  /** OpenAI's image stream: the partial images, then each image whole; a failure midway is an `error` event. */
  const stream = async (res: ServerResponse, images: Buffer[], partials: number): Promise<void> => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const event = (type: string, data: Record<string, unknown>): void => {
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    };
    const common = { created_at: 1700000000, size: '1024x1024', quality: 'low', background: 'opaque' };
    const failMidStream = state.failMidStream;
    state.failMidStream = undefined;
    for (let index = 0; index < partials; index++) {
      if (failMidStream && index === 1) {
        event('error', { error: { message: failMidStream, type: 'server_error', param: null, code: null } });
        return void res.end();
      }
      const preview = await renderPreview(index, 'png');
      event('image_generation.partial_image', {
        b64_json: preview.toString('base64'),
        ...common,
        output_format: 'png',
        partial_image_index: index,
      });
      if (state.stepDelayMs) await sleep(state.stepDelayMs);
    }
    for (const png of images)
      event('image_generation.completed', {
        b64_json: png.toString('base64'),
        ...common,
        output_format: 'png',
        usage: fakeImageUsage,
      });
    res.end();
  };

  const server = createServer((req, res) => {
    void (async () => {
      res.on('close', () => {
        if (!res.writableFinished) state.aborted++;
      });
      const path = (req.url ?? '').split('?')[0]!;
      if (req.method === 'POST' && path === '/v1/images/generations') {
        state.authorizations.push(req.headers.authorization);
        const answer = await generate(JSON.parse((await readBody(req)).toString('utf8')) as Record<string, unknown>);
        const streamed = answer.body as { stream?: Buffer[]; partials?: number };
        if (streamed.stream) return void (await stream(res, streamed.stream, streamed.partials ?? 0));
        if (!res.destroyed) json(res, answer.status, answer.body);
        return;
      }
      if (req.method === 'POST' && path === '/v1/images/edits') {
        state.authorizations.push(req.headers.authorization);
        const form = await readForm(req);
        const body: Record<string, unknown> = {};
        let image: Buffer | undefined;
        for (const [key, value] of form.entries()) {
          if (typeof value === 'string') body[key] = value;
          else image = Buffer.from(await value.arrayBuffer());
        }
        if (!image)
          return json(res, 400, {
            error: {
              message: "Missing required parameter: 'image'.",
              type: 'invalid_request_error',
              param: 'image',
              code: null,
            },
          });
        body.image = `<${image.length} bytes>`;
        const answer = await generate(body, image);
        if (!res.destroyed) json(res, answer.status, answer.body);
        return;
      }
      if (req.method === 'GET' && path.startsWith('/files/')) {
        const png = files.get(path.slice('/files/'.length));
        if (!png) return json(res, 404, {});
        return res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      }
      json(res, 404, {
        error: {
          message: `Invalid URL (${req.method} ${path})`,
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    })().catch(() => res.destroy());
  });
  const listening = await listen(server);
  root = listening.root;
  return Object.assign(state, { url: `${root}/v1`, close: listening.close });
}
