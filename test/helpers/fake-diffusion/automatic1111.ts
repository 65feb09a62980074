/**
 * An AUTOMATIC1111 web UI API written from its documented wire format: POST
 * /sdapi/v1/txt2img and /img2img (images as base64, `info` as a JSON string with
 * all_seeds), GET /sdapi/v1/progress (state.sampling_step/sampling_steps), POST
 * /sdapi/v1/interrupt (the running job stops and answers with what it has), POST
 * /sdapi/v1/unload-checkpoint, and its error body `{error, detail, body, errors}`. With
 * `skip_current_image=false`, progress carries `current_image`: a base64 PNG preview of the current step
 * (live previews on, as A1111's default settings have them).
 */
import { createHash } from 'node:crypto';
import {
  createServer,
  json,
  listen,
  newState,
  readBody,
  renderImage,
  renderPreview,
  sleep,
  type FakeBackendState,
} from './render.js';

export interface FakeAutomatic1111 extends FakeBackendState {
  root: string;
  /** The checkpoint each request asked for (override_settings.sd_model_checkpoint). */
  checkpoints: Array<string | undefined>;
  /** Answer a batch with the grid first, as servers that ignore return_grid do. */
  gridFirst: boolean;
  /** The query of each progress request. */
  progressQueries: string[];
  close(): Promise<void>;
}

export async function startFakeAutomatic1111(): Promise<FakeAutomatic1111> {
  const state = {
    ...newState(),
    checkpoints: [] as Array<string | undefined>,
    gridFirst: false,
    progressQueries: [] as string[],
  };
  let progress = { step: 0, steps: 0, running: false, interrupted: false };

  const generate = async (
    body: Record<string, unknown>,
    img2img: boolean,
  ): Promise<{ status: number; body: unknown }> => {
    state.received.push(body);
    const settings = (body.override_settings ?? {}) as Record<string, unknown>;
    state.checkpoints.push(settings.sd_model_checkpoint as string | undefined);
    if (typeof body.prompt !== 'string')
      return {
        status: 422,
        body: { detail: [{ loc: ['body', 'prompt'], msg: 'str type expected', type: 'type_error.str' }] },
      };
    const fail = state.fail;
    state.fail = undefined;
    if (fail)
      return { status: fail.status, body: { error: 'RuntimeError', detail: '', body: '', errors: fail.message } };
    const steps = Number(body.steps ?? 20);
    const seed = Number(body.seed ?? -1);
    const n = Number(body.batch_size ?? 1);
    progress = { step: 0, steps, running: true, interrupted: false };
    const failMidRun = state.failMidRun;
    state.failMidRun = undefined;
    for (let step = 1; step <= steps && !progress.interrupted; step++) {
      if (state.stepDelayMs) await sleep(state.stepDelayMs);
      progress.step = step;
      if (failMidRun && step === failMidRun.afterSteps) {
        progress.running = false;
        return { status: 500, body: { error: 'OutOfMemoryError', detail: '', body: '', errors: failMidRun.message } };
      }
    }
    progress.running = false;
    const init = img2img
      ? `${createHash('sha256')
          .update(Buffer.from(String((body.init_images as string[])[0]), 'base64'))
          .digest('hex')}@${body.denoising_strength}`
      : undefined;
    const images = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        renderImage({
          prompt: body.prompt as string,
          negative: String(body.negative_prompt ?? ''),
          seed: seed + i,
          steps,
          guidance: Number(body.cfg_scale),
          width: Number(body.width),
          height: Number(body.height),
          ...(init ? { init } : {}),
        }),
      ),
    );
    const encoded = images.map((b) => b.toString('base64'));
    if (n > 1 && (state.gridFirst || settings.return_grid !== false))
      encoded.unshift(
        (await renderImage({ prompt: 'grid', seed: 0, steps: 1, guidance: 1, width: 64, height: 64 })).toString(
          'base64',
        ),
      );
    const info = {
      prompt: body.prompt,
      seed,
      all_seeds: Array.from({ length: n }, (_, i) => seed + i),
      steps,
      cfg_scale: body.cfg_scale,
      width: body.width,
      height: body.height,
      sd_model_name: settings.sd_model_checkpoint ?? 'v1-5-pruned-emaonly',
    };
    return { status: 200, body: { images: encoded, parameters: body, info: JSON.stringify(info) } };
  };

  const server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0];
      res.on('close', () => {
        if (!res.writableFinished) state.aborted++;
      });
      if (req.method === 'POST' && (path === '/sdapi/v1/txt2img' || path === '/sdapi/v1/img2img')) {
        const answer = await generate(
          JSON.parse((await readBody(req)).toString('utf8')) as Record<string, unknown>,
          path.endsWith('img2img'),
        );
        if (!res.destroyed) json(res, answer.status, answer.body);
        return;
      }
      if (req.method === 'GET' && path === '/sdapi/v1/progress') {
        const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
        state.progressQueries.push(query.toString());
        const fraction = progress.steps ? progress.step / progress.steps : 0;
        const preview =
          progress.running && progress.step > 0 && query.get('skip_current_image') === 'false'
            ? (await renderPreview(progress.step, 'png')).toString('base64')
            : null;
        return json(res, 200, {
          progress: progress.running ? fraction : 0,
          eta_relative: 0,
          state: {
            skipped: false,
            interrupted: progress.interrupted,
            job: progress.running ? 'txt2img' : '',
            job_count: progress.running ? 1 : 0,
            job_timestamp: '20240101000000',
            job_no: 0,
            sampling_step: progress.step,
            sampling_steps: progress.steps,
          },
          current_image: preview,
          textinfo: null,
        });
      }
      if (req.method === 'POST' && path === '/sdapi/v1/interrupt') {
        await readBody(req);
        state.interrupts++;
        progress.interrupted = true;
        return json(res, 200, {});
      }
      if (req.method === 'POST' && path === '/sdapi/v1/unload-checkpoint') {
        state.frees++;
        return json(res, 200, {});
      }
      json(res, 404, { detail: 'Not Found' });
    })().catch(() => res.destroy());
  });
  const { root, close } = await listen(server);
  return Object.assign(state, { root, close });
}
