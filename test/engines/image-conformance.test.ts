/**
 * One conformance suite every image engine passes, each against an upstream written from
 * that backend's wire format (test/helpers/fake-diffusion): parameters as the backend
 * expects them, the bytes back intact, seeds, batches, progress, cancellation that
 * interrupts the backend, backend errors as 502s with their message, img2img.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Automatic1111Engine } from '../../src/engines/automatic1111/automatic1111-engine.js';
import { ComfyUiEngine } from '../../src/engines/comfyui/comfyui-engine.js';
import type { ImageEngine, ImageRequest, ImageStep } from '../../src/engines/image-spec.js';
import { OpenAiImagesEngine } from '../../src/engines/openai-images/openai-images-engine.js';
import { isAppError } from '../../src/errors/app-error.js';
import { startFakeAutomatic1111, type FakeAutomatic1111 } from '../helpers/fake-diffusion/automatic1111.js';
import { startFakeComfyUi, type FakeComfyUi } from '../helpers/fake-diffusion/comfyui.js';
import { startFakeOpenAiImages, type FakeOpenAiImages } from '../helpers/fake-diffusion/openai-images.js';
import { renderImage, sleep, type FakeBackendState } from '../helpers/fake-diffusion/render.js';

const upstream = { timeoutMs: 20_000, connectTimeoutMs: 2000, maxRetries: 0 };
const request = (over: Partial<ImageRequest> = {}): ImageRequest => ({
  prompt: 'photo of sks person as astronaut',
  negativePrompt: 'blurry',
  steps: 6,
  guidance: 7.5,
  width: 256,
  height: 320,
  seed: 1234,
  n: 1,
  ...over,
});
const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface Backend<F extends FakeBackendState> {
  name: string;
  start(): Promise<F & { close(): Promise<void> }>;
  engine(fake: F): ImageEngine;
  /** What the backend makes for this request's image `index`, rendered by the fake's own model. */
  expected(r: ImageRequest, index: number, init?: Buffer): Promise<Buffer>;
  /** The request as it arrived upstream matches what the backend's API expects. */
  checkSent(fake: F, r: ImageRequest): void;
  /** The backend was told to stop (interrupt) or saw its client go. */
  stopped(fake: F): boolean;
  /** Whether the backend reports sampling steps (OpenAI's API answers once, at the end). */
  progress: boolean;
  seeds: boolean;
  /** Fails the next generation the way this backend fails. */
  failNext(fake: F, message: string): void;
  checkInit(fake: F, init: Buffer, strength: number): void;
}

const initDigest = (init: Buffer, strength: number): string => `${digest(init)}@${strength}`;

const automatic1111: Backend<FakeAutomatic1111> = {
  name: 'automatic1111',
  start: startFakeAutomatic1111,
  engine: (fake) =>
    new Automatic1111Engine({
      ...upstream,
      urls: [fake.root],
      checkpoint: 'dreambooth-photoai.safetensors',
      sampler: 'Euler a',
      progressIntervalMs: 40,
    }),
  expected: (r, i, init) =>
    renderImage({
      prompt: r.prompt,
      negative: r.negativePrompt,
      seed: r.seed + i,
      steps: r.steps,
      guidance: r.guidance,
      width: r.width,
      height: r.height,
      ...(init ? { init: initDigest(init, r.init!.strength) } : {}),
    }),
  checkSent(fake, r) {
    const body = fake.received.at(-1)!;
    assert.deepEqual(
      {
        prompt: body.prompt,
        negative_prompt: body.negative_prompt,
        seed: body.seed,
        steps: body.steps,
        cfg_scale: body.cfg_scale,
        width: body.width,
        height: body.height,
        batch_size: body.batch_size,
        sampler_name: body.sampler_name,
      },
      {
        prompt: r.prompt,
        negative_prompt: r.negativePrompt,
        seed: r.seed,
        steps: r.steps,
        cfg_scale: r.guidance,
        width: r.width,
        height: r.height,
        batch_size: r.n,
        sampler_name: 'Euler a',
      },
    );
    assert.equal(fake.checkpoints.at(-1), 'dreambooth-photoai.safetensors', 'checkpoint through override_settings');
  },
  stopped: (fake) => fake.interrupts > 0,
  progress: true,
  seeds: true,
  failNext: (fake, message) => void (fake.fail = { status: 500, message }),
  checkInit(fake, init, strength) {
    const body = fake.received.at(-1)!;
    assert.equal((body.init_images as string[])[0], init.toString('base64'));
    assert.equal(body.denoising_strength, strength);
  },
};

const comfyui: Backend<FakeComfyUi> = {
  name: 'comfyui',
  start: startFakeComfyUi,
  engine: (fake) =>
    new ComfyUiEngine({
      ...upstream,
      urls: [fake.root],
      checkpoint: 'v1-5-pruned-emaonly.safetensors',
      progressIntervalMs: 40,
    }),
  expected: (r, i, init) =>
    renderImage({
      prompt: r.prompt,
      negative: r.negativePrompt,
      seed: r.seed,
      steps: r.steps,
      guidance: r.guidance,
      width: r.width,
      height: r.height,
      index: i,
      ...(init ? { init: initDigest(init, r.init!.strength) } : {}),
    }),
  checkSent(fake, r) {
    const graph = (
      fake.received.at(-1)! as { prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> }
    ).prompt;
    const node = (type: string) => Object.values(graph).filter((n) => n.class_type === type);
    const sampler = node('KSampler')[0]!.inputs;
    assert.deepEqual(
      { seed: sampler.seed, steps: sampler.steps, cfg: sampler.cfg },
      { seed: r.seed, steps: r.steps, cfg: r.guidance },
    );
    assert.deepEqual(
      node('CLIPTextEncode').map((n) => n.inputs.text),
      [r.prompt, r.negativePrompt],
    );
    assert.equal(node('CheckpointLoaderSimple')[0]!.inputs.ckpt_name, 'v1-5-pruned-emaonly.safetensors');
    if (!r.init)
      assert.deepEqual(node('EmptyLatentImage')[0]!.inputs, { width: r.width, height: r.height, batch_size: r.n });
  },
  stopped: (fake) => fake.interrupts > 0,
  progress: true,
  seeds: true,
  failNext: (fake, message) => void (fake.fail = { status: 400, message }),
  checkInit(fake, init, strength) {
    assert.equal(digest([...fake.uploads.values()].at(-1)!), digest(init));
    const graph = (
      fake.received.at(-1)! as { prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> }
    ).prompt;
    const load = Object.values(graph).find((n) => n.class_type === 'LoadImage')!;
    assert.ok(fake.uploads.has(String(load.inputs.image)), 'LoadImage names the uploaded file');
    assert.equal(Object.values(graph).find((n) => n.class_type === 'KSampler')!.inputs.denoise, strength);
  },
};

const openai: Backend<FakeOpenAiImages> = {
  name: 'openai',
  start: startFakeOpenAiImages,
  engine: (fake) =>
    new OpenAiImagesEngine({
      ...upstream,
      urls: [fake.url],
      model: 'dall-e-2',
      apiKey: 'sk-test',
      extendedParams: false,
    }),
  expected: (r, i, init) =>
    renderImage({
      prompt: r.prompt,
      negative: '',
      seed: 0,
      steps: 50,
      guidance: 0,
      width: r.width,
      height: r.height,
      index: i,
      ...(init ? { init: digest(init) } : {}),
    }),
  checkSent(fake, r) {
    const body = fake.received.at(-1)!;
    if (!r.init)
      assert.deepEqual(body, {
        model: 'dall-e-2',
        prompt: r.prompt,
        n: r.n,
        size: `${r.width}x${r.height}`,
        response_format: 'b64_json',
      });
    assert.equal(fake.authorizations.at(-1), 'Bearer sk-test');
  },
  stopped: (fake) => fake.aborted > 0,
  progress: false,
  seeds: false,
  failNext: (fake, message) => void (fake.fail = { status: 500, message }),
  checkInit(fake, init) {
    assert.equal(fake.received.at(-1)!.image, `<${init.length} bytes>`);
  },
};

async function rejectsWith(promise: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isAppError(error), `an AppError, got ${String(error)}`);
    assert.equal(error.status, status, error.message);
    assert.match(error.message, message);
    return true;
  });
}

async function until(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await sleep(20);
  return check();
}

function suite<F extends FakeBackendState>(backend: Backend<F>): void {
  describe(`image engine conformance: ${backend.name}`, async () => {
    const fake = await backend.start();
    const engine = backend.engine(fake);
    after(() => fake.close());

    test('sends the parameters as the backend expects them, and gets the image bytes back intact', async () => {
      const r = request();
      const out = await engine.generate(r);
      backend.checkSent(fake, r);
      assert.equal(out.images.length, 1);
      assert.equal(digest(out.images[0]!), digest(await backend.expected(r, 0)));
      assert.deepEqual(out.seeds, [r.seed]);
    });

    test('the same seed twice gives byte-identical images; another seed, another image', async () => {
      const a = await engine.generate(request());
      const b = await engine.generate(request());
      assert.ok(a.images[0]!.equals(b.images[0]!));
      if (backend.seeds) {
        const c = await engine.generate(request({ seed: 99 }));
        assert.ok(!a.images[0]!.equals(c.images[0]!));
      }
    });

    test('n images in one request, each as the backend made it', async () => {
      const r = request({ n: 3 });
      const out = await engine.generate(r);
      backend.checkSent(fake, r);
      assert.equal(out.images.length, 3);
      for (const [i, image] of out.images.entries()) assert.equal(digest(image), digest(await backend.expected(r, i)));
      assert.equal(new Set(out.images.map(digest)).size, 3);
    });

    test('img2img: the init image and strength reach the backend', async () => {
      const init = await renderImage({ prompt: 'init', seed: 5, steps: 1, guidance: 1, width: 256, height: 256 });
      const r = request({ width: 256, height: 256, init: { image: init, strength: 0.6 } });
      const out = await engine.generate(r);
      backend.checkInit(fake, init, 0.6);
      backend.checkSent(fake, r);
      assert.equal(digest(out.images[0]!), digest(await backend.expected(r, 0, init)));
    });

    test(
      backend.progress
        ? 'progress: the backend steps reach the caller, in order'
        : 'progress: none is invented for a backend that reports none',
      async () => {
        fake.stepDelayMs = 40;
        const steps: ImageStep[] = [];
        try {
          await engine.generate(request({ steps: 10 }), { onStep: (s) => steps.push(s) });
        } finally {
          fake.stepDelayMs = 0;
        }
        if (!backend.progress) return assert.deepEqual(steps, []);
        assert.ok(steps.length >= 2, `steps seen: ${JSON.stringify(steps)}`);
        assert.ok(steps.every((s) => s.steps === 10 && s.step >= 1 && s.step <= 10));
        assert.deepEqual(
          steps.map((s) => s.step),
          [...steps.map((s) => s.step)].sort((a, b) => a - b),
        );
      },
    );

    test('cancelling the request interrupts the backend', async () => {
      fake.stepDelayMs = 50;
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 300);
      try {
        await rejectsWith(engine.generate(request({ steps: 40 }), { signal: controller.signal }), 499, /cancelled/);
      } finally {
        fake.stepDelayMs = 0;
      }
      assert.ok(Date.now() - started < 1500, 'the call returned soon after the abort');
      assert.ok(await until(() => backend.stopped(fake)), 'the backend was told to stop');
    });

    test('a backend error becomes a 502 with its message', async () => {
      backend.failNext(fake, 'CUDA out of memory. Tried to allocate 2.00 GiB');
      await rejectsWith(engine.generate(request()), 502, /CUDA out of memory\. Tried to allocate 2\.00 GiB/);
    });

    test('a run failing midway becomes a 502 with the backend message', async () => {
      fake.failMidRun = { afterSteps: 3, message: 'sampler crashed at step 3' };
      await rejectsWith(engine.generate(request()), 502, /sampler crashed at step 3/);
    });

    test('reset drops the sessions and says what it dropped', async () => {
      const dropped = await engine.reset();
      assert.ok(dropped.includes('kept-alive connections'));
      if (backend.name !== 'openai')
        assert.ok(fake.frees > 0 && dropped.some((d) => /unloaded/.test(d)), JSON.stringify(dropped));
      const out = await engine.generate(request());
      assert.equal(out.images.length, 1, 'works again after a reset');
    });
  });
}

suite(automatic1111);
suite(comfyui);
suite(openai);

describe('backend specifics', () => {
  test('automatic1111: a grid put first (servers ignoring return_grid) is dropped', async () => {
    const fake = await startFakeAutomatic1111();
    try {
      fake.gridFirst = true;
      const r = request({ n: 2 });
      const out = await automatic1111.engine(fake).generate(r);
      assert.deepEqual(await Promise.all(out.images.map(digest)), [
        digest(await automatic1111.expected(r, 0)),
        digest(await automatic1111.expected(r, 1)),
      ]);
      assert.deepEqual(out.seeds, [r.seed, r.seed + 1], 'all_seeds from info');
    } finally {
      await fake.close();
    }
  });

  test('comfyui: without its websocket, the result is read from /history', async () => {
    const fake = await startFakeComfyUi();
    try {
      fake.noWebsocket = true;
      fake.stepDelayMs = 10;
      const r = request();
      const out = await comfyui.engine(fake).generate(r);
      assert.equal(digest(out.images[0]!), digest(await comfyui.expected(r, 0)));
    } finally {
      await fake.close();
    }
  });

  test('openai: extendedParams sends seed, step and a "positive|negative" prompt (LocalAI), which then shape the image', async () => {
    const fake = await startFakeOpenAiImages();
    try {
      fake.localai = true;
      const engine = new OpenAiImagesEngine({
        ...upstream,
        urls: [fake.url],
        model: 'stablediffusion',
        extendedParams: true,
      });
      const r = request();
      const out = await engine.generate(r);
      assert.deepEqual(fake.received.at(-1), {
        model: 'stablediffusion',
        prompt: `${r.prompt}|${r.negativePrompt}`,
        n: 1,
        size: '256x320',
        response_format: 'b64_json',
        seed: r.seed,
        step: r.steps,
      });
      const expected = await renderImage({
        prompt: r.prompt,
        negative: r.negativePrompt,
        seed: r.seed,
        steps: r.steps,
        guidance: 0,
        width: 256,
        height: 320,
        index: 0,
      });
      assert.equal(digest(out.images[0]!), digest(expected));
    } finally {
      await fake.close();
    }
  });

  test('openai: a server answering with URLs is read from them', async () => {
    const fake = await startFakeOpenAiImages();
    try {
      const engine = new OpenAiImagesEngine({
        ...upstream,
        urls: [fake.url],
        model: 'gpt-image-1',
        extendedParams: false,
      });
      const r = request();
      const out = await engine.generate(r);
      assert.equal(fake.received.at(-1)!.response_format, undefined, 'gpt-image models take no response_format');
      assert.equal(digest(out.images[0]!), digest(await openai.expected(r, 0)));
    } finally {
      await fake.close();
    }
  });
});
