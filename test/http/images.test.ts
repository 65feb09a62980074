/**
 * Text-to-image over HTTP, against the fake diffusion servers: the native API (sync and
 * async with step progress), OpenAI's images API through the official SDK, saved PNGs with
 * their parameters, history in the job store, cancellation, errors, and the 503 that says
 * how to configure a backend.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import sharp from 'sharp';
import { request } from 'undici';
import { ImageStore } from '../../src/images/image-store.js';
import { pngChunks, pngText, withText } from '../../src/images/png-text.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { renderImage, sleep } from '../helpers/fake-diffusion/render.js';
import { startImageApp, type ImageBackends } from '../helpers/image-backends.js';

let backends: ImageBackends;
let t: TestApp;
let base: string;

let closeAll: () => Promise<void>;
before(async () => {
  ({ backends, t, base, close: closeAll } = await startImageApp());
});
after(async () => {
  await closeAll();
});

const json = (payload: unknown) => ({
  payload: JSON.stringify(payload),
  headers: { 'content-type': 'application/json' },
});
const idat = (png: Buffer): Buffer =>
  Buffer.concat(
    pngChunks(png)
      .filter((c) => c.type === 'IDAT')
      .map((c) => c.data),
  );
type Generation = {
  model: string;
  seed: number;
  duration_ms: number;
  parameters: Record<string, unknown>;
  images: Array<{ id: string; url: string; seed: number; width: number; height: number; b64_json?: string }>;
};

describe('POST /api/v1/images', () => {
  test("makes the image on the user's model; GET /api/v1/images/{id} serves the PNG with its parameters, pixels as the backend made them", async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/images',
      ...json({
        prompt: 'photo of sks person as astronaut',
        negative_prompt: 'blurry',
        num_inference_steps: 12,
        guidance_scale: 6,
        width: 384,
        height: 256,
        seed: 42,
      }),
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json() as Generation;
    assert.equal(body.model, 'Zhurah/sd15-dreambooth-photoai');
    assert.equal(body.seed, 42);
    assert.equal(body.images.length, 1);
    const image = body.images[0]!;
    assert.match(image.url, /\/api\/v1\/images\/img_[A-Za-z0-9_-]{22}$/);
    assert.deepEqual([image.width, image.height, image.seed], [384, 256, 42]);
    const png = await t.app.inject({ method: 'GET', url: `/api/v1/images/${image.id}` });
    assert.equal(png.statusCode, 200);
    assert.equal(png.headers['content-type'], 'image/png');
    const bytes = png.rawPayload;
    const meta = await sharp(bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 384, 256]);
    const expected = await renderImage({
      prompt: 'photo of sks person as astronaut',
      negative: 'blurry',
      seed: 42,
      steps: 12,
      guidance: 6,
      width: 384,
      height: 256,
    });
    assert.ok(idat(bytes).equals(idat(expected)), "the pixels are the backend's, untouched");
    const text = pngText(bytes);
    assert.equal(
      text.parameters,
      'photo of sks person as astronaut\nNegative prompt: blurry\nSteps: 12, CFG scale: 6, Seed: 42, Size: 384x256, Model: Zhurah/sd15-dreambooth-photoai',
    );
    assert.match(text.Software!, /^visiongate /);
    assert.equal(backends.a1111.checkpoints.at(-1), 'sd15-dreambooth-photoai.safetensors');
    assert.ok(readdirSync(backends.outputDir).includes(`${image.id}.png`), 'saved in images.outputDir');
  });

  test('without a seed, one is drawn and returned; replaying it gives the same bytes', async () => {
    const first = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/images',
        ...json({ prompt: 'a lighthouse', response_format: 'b64_json', width: 256, height: 256 }),
      })
    ).json() as Generation;
    assert.ok(Number.isInteger(first.seed) && first.seed >= 0 && first.seed < 2 ** 32);
    const again = (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/images',
        ...json({ prompt: 'a lighthouse', response_format: 'b64_json', width: 256, height: 256, seed: first.seed }),
      })
    ).json() as Generation;
    assert.ok(
      first.images[0]!.b64_json && first.images[0]!.b64_json === again.images[0]!.b64_json,
      'byte-identical PNGs',
    );
  });

  test('style presets wrap the prompt and add their negative prompt; an unknown style is a 422 listing the styles', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/images',
      ...json({ prompt: 'a harbour at dawn', negative_prompt: 'text', style: 'cinematic', width: 256, height: 256 }),
    });
    assert.equal(res.statusCode, 200, res.body);
    const sent = backends.a1111.received.at(-1)!;
    assert.equal(sent.prompt, 'a harbour at dawn, cinematic lighting, 35mm');
    assert.equal(sent.negative_prompt, 'text, cartoon');
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/images',
      ...json({ prompt: 'x', style: 'vaporwave' }),
    });
    assert.equal(bad.statusCode, 422);
    assert.match(bad.json().detail, /unknown style 'vaporwave'; configured styles: cinematic/);
  });

  test('img2img: a base64 init image and strength reach the backend', async () => {
    const init = await renderImage({ prompt: 'sketch', seed: 1, steps: 1, guidance: 1, width: 256, height: 256 });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/images',
      ...json({
        prompt: 'oil painting',
        init_image: `data:image/png;base64,${init.toString('base64')}`,
        strength: 0.55,
        width: 256,
        height: 256,
      }),
    });
    assert.equal(res.statusCode, 200, res.body);
    const sent = backends.a1111.received.at(-1)!;
    assert.equal((sent.init_images as string[])[0], init.toString('base64'));
    assert.equal(sent.denoising_strength, 0.55);
    const junk = await t.app.inject({
      method: 'POST',
      url: '/api/v1/images',
      ...json({ prompt: 'x', init_image: Buffer.from('not an image').toString('base64') }),
    });
    assert.equal(junk.statusCode, 422);
    assert.match(junk.json().detail, /init_image: is not a PNG, JPEG/);
  });

  test("async=true: a job whose progress is the backend's steps; the generation is in the job history", async () => {
    backends.comfy.stepDelayMs = 40;
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/images?async=true',
        ...json({ prompt: 'a red fox in snow', user_id: 'alice', num_inference_steps: 10, width: 256, height: 256 }),
      });
      assert.equal(res.statusCode, 202, res.body);
      const id = (res.json() as { id: string }).id;
      const events = await t.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}/events` });
      const parsed = events.body
        .split('\n\n')
        .filter((b) => b.startsWith('event:'))
        .map((b) => ({
          name: /^event: (.+)$/m.exec(b)![1]!,
          data: JSON.parse(/^data: (.+)$/m.exec(b)![1]!) as Record<string, unknown>,
        }));
      const progress = parsed
        .filter((e) => e.name === 'job-progress')
        .map((e) => e.data as unknown as { unit: string; done: number; total: number });
      assert.ok(progress.length >= 2, JSON.stringify(parsed.map((e) => e.name)));
      assert.ok(progress.every((p) => p.unit === 'steps' && p.total === 10));
      assert.equal(progress.at(-1)!.done, 10, 'the last step is always reported');
      const end = parsed.at(-1)!;
      assert.equal(end.name, 'job-end');
      const job = (await t.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}` })).json() as {
        status: string;
        result: Generation;
      };
      assert.equal(job.status, 'succeeded');
      assert.equal(job.result.model, 'alice-model', 'user_id alice → her model (ComfyUI)');
      const png = await t.app.inject({ method: 'GET', url: `/api/v1/images/${job.result.images[0]!.id}` });
      assert.equal(png.statusCode, 200);
    } finally {
      backends.comfy.stepDelayMs = 0;
    }
    const history = (await t.app.inject({ method: 'GET', url: '/api/v1/images?limit=100' })).json() as {
      data: Array<{
        job_id: string;
        status: string;
        model: string;
        created_at: string;
        finished_at: string;
        duration_ms: number;
        parameters: Record<string, unknown>;
        images: Array<{ url: string }>;
      }>;
    };
    assert.ok(history.data.length >= 5);
    const fox = history.data.find((j) => j.parameters.prompt === 'a red fox in snow')!;
    assert.equal(fox.status, 'succeeded');
    assert.equal(fox.model, 'alice-model');
    assert.ok(fox.created_at && fox.finished_at && fox.duration_ms >= 0);
    assert.equal(fox.parameters.num_inference_steps, 10);
    assert.match(fox.images[0]!.url, /^\/api\/v1\/images\/img_/);
  });

  test('an Idempotency-Key retry of a generation without a seed returns the same job (the drawn seed is not part of the comparison)', async () => {
    const send = () =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/images?async=true',
        payload: JSON.stringify({ prompt: 'retry me', width: 256, height: 256 }),
        headers: { 'content-type': 'application/json', 'idempotency-key': 'gen-1' },
      });
    const first = await send();
    assert.equal(first.statusCode, 202, first.body);
    const again = await send();
    assert.equal(again.statusCode, 200, again.body);
    const id = (first.json() as { id: string }).id;
    assert.equal((again.json() as { id: string }).id, id);
    // Let it end here, so the next test's scripted failure is not taken by this job.
    for (let status = ''; !['succeeded', 'failed'].includes(status); await sleep(20))
      status = ((await t.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}` })).json() as { status: string }).status;
  });

  test("a backend error is a 502 naming the backend's message; nothing is left in the output folder", async () => {
    const before = readdirSync(backends.outputDir).length;
    backends.a1111.fail = { status: 500, message: 'CUDA out of memory' };
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/images', ...json({ prompt: 'x' }) });
    assert.equal(res.statusCode, 502, res.body);
    assert.match(res.json().detail, /CUDA out of memory/);
    assert.equal(readdirSync(backends.outputDir).length, before);
  });

  test('a client that goes away cancels its generation and interrupts the backend', async () => {
    backends.a1111.stepDelayMs = 50;
    const interrupts = backends.a1111.interrupts;
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 400);
      await assert.rejects(
        request(`${base}/api/v1/images`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'slow', num_inference_steps: 100 }),
          signal: controller.signal,
        }),
      );
      const deadline = Date.now() + 5000;
      while (backends.a1111.interrupts === interrupts && Date.now() < deadline) await sleep(25);
      assert.ok(backends.a1111.interrupts > interrupts, 'POST /sdapi/v1/interrupt was sent');
    } finally {
      backends.a1111.stepDelayMs = 0;
    }
    const health = await t.app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
  });

  test('an unknown image id is a 404 that says why; ids that are not ids never reach the disk', async () => {
    for (const id of ['img_AAAAAAAAAAAAAAAAAAAAAA', '..%2F..%2Fetc%2Fpasswd', 'img_x']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/images/${id}` });
      assert.equal(res.statusCode, 404, id);
      assert.match(res.json().detail, /never made here, or it was deleted after images.retentionDays/);
    }
  });
});

describe('POST /v1/images/generations (official openai SDK)', () => {
  test('b64_json and url answers, n images, size; the diffusion parameters ride along as extra fields', async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });
    const b64 = await client.images.generate({
      model: 'dall-e-2',
      prompt: 'a watercolor fox',
      n: 2,
      size: '256x256',
      response_format: 'b64_json',
    });
    assert.equal(b64.data!.length, 2);
    for (const item of b64.data!)
      assert.equal((await sharp(Buffer.from(item.b64_json!, 'base64')).metadata()).width, 256);
    assert.deepEqual(backends.openai.received.at(-1), {
      model: 'dall-e-2',
      prompt: 'a watercolor fox',
      n: 2,
      size: '256x256',
      response_format: 'b64_json',
    });
    assert.equal(backends.openai.authorizations.at(-1), 'Bearer sk-upstream', "the upstream key, not the client's");

    const byUrl = await client.images.generate({
      model: 'Zhurah/sd15-dreambooth-photoai',
      prompt: 'a watercolor fox',
      size: '512x512',
      seed: 7,
      num_inference_steps: 9,
    } as OpenAI.ImageGenerateParamsNonStreaming);
    const url = byUrl.data![0]!.url!;
    // Relative (no server.publicUrl here): never built from the Host header the client sent.
    assert.match(url, /^\/api\/v1\/images\/img_/);
    const png = Buffer.from(await (await fetch(`${base}${url}`)).arrayBuffer());
    assert.equal((await sharp(png).metadata()).height, 512);
    assert.deepEqual([backends.a1111.received.at(-1)!.seed, backends.a1111.received.at(-1)!.steps], [7, 9]);
  });

  test('quality, OpenAI styles, output_format and response_format reach an OpenAI images backend as sent; other backends refuse them by name', async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });
    const res = await client.images.generate({
      model: 'dall-e-2',
      prompt: 'a fox',
      size: '256x256',
      quality: 'hd',
      style: 'vivid',
      response_format: 'url',
    });
    assert.match(res.data![0]!.url!, /\/api\/v1\/images\/img_/);
    assert.deepEqual(backends.openai.received.at(-1), {
      model: 'dall-e-2',
      prompt: 'a fox',
      n: 1,
      size: '256x256',
      response_format: 'url',
      quality: 'hd',
      style: 'vivid',
    });
    // A field this backend does not know reaches it too, and its refusal comes back (through the job, so without param).
    await assert.rejects(
      client.images.generate({ model: 'dall-e-2', prompt: 'x', output_format: 'webp' }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        /Unrecognized request argument supplied: output_format/.test(error.message),
    );
    await assert.rejects(
      client.images.generate({ model: 'Zhurah/sd15-dreambooth-photoai', prompt: 'x', quality: 'hd' }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError && error.param === 'quality' && /automatic1111/.test(error.message),
    );
  });

  test("bad parameters come back as the SDK's BadRequestError naming the parameter", async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });
    await assert.rejects(
      client.images.generate({ model: 'dall-e-2', prompt: 'x', size: '1792x1024' }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.match(error.message, /width: must be a whole number from 256 to 1024/);
        return true;
      },
    );
    await assert.rejects(
      client.images.generate({ model: 'dall-e-2', prompt: 'x', n: 9 }),
      /n: must be a whole number from 1 to 4/,
    );
  });

  test('/v1/models lists the image models with the image capability', async () => {
    const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });
    const models = new Map<string, { capabilities?: string[] }>();
    for await (const m of client.models.list()) models.set(m.id, m as unknown as { capabilities?: string[] });
    for (const id of ['Zhurah/sd15-dreambooth-photoai', 'alice-model', 'dall-e-2'])
      assert.deepEqual(models.get(id)?.capabilities, ['image'], id);
  });
});

describe('no image backend configured', () => {
  test('every generation route answers 503 with the config to paste for each engine, never a picture', async () => {
    const bare = await buildTestApp({});
    try {
      for (const [url, surface] of [
        ['/api/v1/images', 'native'],
        ['/v1/images/generations', 'openai'],
        ['/generate', 'compat'],
        ['/generate/image', 'compat'],
      ] as const) {
        const res = await bare.app.inject({ method: 'POST', url, ...json({ prompt: 'photo of sks person' }) });
        assert.equal(res.statusCode, 503, url);
        assert.match(String(res.headers['content-type']), /json/, url);
        const message = surface === 'openai' ? res.json().error.message : res.json().detail;
        for (const engine of [
          'backend: automatic1111',
          'backend: comfyui',
          'backend: openai',
          'images: { users: { default: sd15 } }',
        ])
          assert.ok(message.includes(engine), `${url}: ${message}`);
      }
    } finally {
      await bare.close();
    }
  });
});

describe('image store and PNG text', () => {
  test('retention deletes images older than images.retentionDays and leftovers of interrupted writes, nothing else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'visiongate-retention-'));
    try {
      let now = Date.now();
      const store = new ImageStore(dir, 7, () => now);
      const old = await store.save(
        await renderImage({ prompt: 'old', seed: 1, steps: 1, guidance: 1, width: 256, height: 256 }),
      );
      const fresh = await store.save(
        await renderImage({ prompt: 'new', seed: 2, steps: 1, guidance: 1, width: 256, height: 256 }),
      );
      const eightDaysAgo = (now - 8 * 86_400_000) / 1000;
      utimesSync(old.path, eightDaysAgo, eightDaysAgo);
      writeFileSync(join(dir, 'img_x.png.123.tmp'), 'partial');
      utimesSync(join(dir, 'img_x.png.123.tmp'), eightDaysAgo, eightDaysAgo);
      assert.equal(await store.sweep(), 2);
      assert.equal(await store.read(old.id), undefined);
      assert.ok(await store.read(fresh.id));
      now += 8 * 86_400_000;
      assert.equal(await store.sweep(), 1, 'the fresh one goes once it is old too');
      assert.equal(await new ImageStore(dir, 0, () => now + 1e12).sweep(), 0, 'retentionDays 0 keeps everything');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("parameters survive as tEXt (Latin-1) or iTXt (any text), replacing the backend's own", async () => {
    const png = await renderImage({ prompt: 'p', seed: 1, steps: 1, guidance: 1, width: 256, height: 256 });
    const backendLabelled = withText(png, { parameters: 'from the backend' });
    const ours = withText(backendLabelled, { parameters: '富士山の写真, Negative prompt: ночь' });
    assert.equal(pngText(ours).parameters, '富士山の写真, Negative prompt: ночь');
    assert.equal(pngChunks(ours).filter((c) => c.type === 'iTXt' || c.type === 'tEXt').length, 1);
    assert.ok(idat(ours).equals(idat(png)));
    assert.equal((await sharp(ours).metadata()).width, 256, 'still a valid PNG');
    assert.equal(
      pngChunks(withText(png, { parameters: 'café' }))
        .find((c) => c.type === 'tEXt')!
        .data.toString('latin1'),
      'parameters\0café',
    );
  });
});
