/**
 * The Stable Diffusion API seed (003) unchanged: its curl examples run as written with
 * curl, its test_api.py flow (health, root, generate, generate/image, custom parameters,
 * reproducible seeds, cache) ported step by step, and every range of its parameter table
 * at and beyond both ends, with FastAPI's 422 bodies.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { startImageApp, type ImageBackends } from '../helpers/image-backends.js';
import { needs } from '../helpers/system-parts.js';

const execFileAsync = promisify(execFile);
// A 512×512 PNG as base64 can pass 1 MB (execFile's default output limit) when the fake's gradient for that seed
// compresses poorly: the answer is read whole, as the seed's users read it.
const run = (file: string, args: string[]) => execFileAsync(file, args, { maxBuffer: 64 << 20 });
let backends: ImageBackends;
let base: string;
let scratch: string;
let closeAll: () => Promise<void>;
before(async () => {
  ({ backends, base, close: closeAll } = await startImageApp());
  scratch = mkdtempSync(join(tmpdir(), 'visiongate-sd-'));
});
after(async () => {
  await closeAll();
  rmSync(scratch, { recursive: true, force: true });
});

/** What python's requests.post(url, json=...) sends. */
const post = (path: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
type GenerateResponse = {
  image_base64: string;
  model_id: string;
  generation_time: number;
  image_path: string;
  seed: number;
};

describe('Stable Diffusion seed: curl examples as written', needs('curl'), () => {
  test('curl -X POST /generate -d \'{"prompt": "photo of sks person", "user_id": "default"}\'', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '-X',
      'POST',
      `${base}/generate`,
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"prompt": "photo of sks person", "user_id": "default"}',
    ]);
    const body = JSON.parse(stdout) as GenerateResponse;
    assert.equal(body.model_id, 'Zhurah/sd15-dreambooth-photoai');
    assert.ok(body.generation_time >= 0);
    // The seed's shape (output/<file>.png), never the server's absolute disk path.
    assert.match(body.image_path, /^output\/img_[A-Za-z0-9_-]{22}\.png$/);
    const png = Buffer.from(body.image_base64, 'base64');
    assert.deepEqual(
      readFileSync(join(backends.outputDir, body.image_path.slice('output/'.length))),
      png,
      'the file it names holds the same PNG',
    );
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 512, 512]);
    assert.equal(backends.a1111.received.at(-1)!.steps, 30, "the seed's default steps");
    assert.equal(backends.a1111.received.at(-1)!.cfg_scale, 7.5, "the seed's default guidance");
  });

  test('curl -X POST /generate/image -d \'{"prompt": "photo of sks person smiling"}\' --output image.png', async () => {
    const out = join(scratch, 'image.png');
    await run('curl', [
      '-sS',
      '-X',
      'POST',
      `${base}/generate/image`,
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"prompt": "photo of sks person smiling"}',
      '--output',
      out,
    ]);
    const meta = await sharp(readFileSync(out)).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 512, 512]);
  });
});

describe('Stable Diffusion seed: test_api.py flow', () => {
  test('health → root → generate → generate/image → custom parameters → seed reproducibility → clear cache', async () => {
    // test_health
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    const h = (await health.json()) as { status: string; image_models: string[] };
    assert.equal(h.status, 'healthy');
    assert.ok(h.image_models.includes('Zhurah/sd15-dreambooth-photoai'));

    // test_root
    const root = (await (await fetch(`${base}/`)).json()) as {
      message: string;
      docs: string;
      compatible_with: string[];
    };
    assert.equal(root.docs, '/docs');
    assert.ok(root.compatible_with.includes('Stable Diffusion API'));

    // test_generate: the JSON answer, its base64 decoded and saved as test_output/generated.png
    const generated = await post('/generate', {
      prompt: 'photo of sks person as a futuristic astronaut in space station',
      user_id: 'user_123',
      num_inference_steps: 20,
    });
    assert.equal(generated.status, 200);
    const g = (await generated.json()) as GenerateResponse;
    for (const field of ['image_base64', 'model_id', 'generation_time', 'image_path']) assert.ok(field in g, field);
    assert.equal(g.model_id, 'Zhurah/sd15-dreambooth-photoai', 'an unknown user gets the default model');
    assert.equal((await sharp(Buffer.from(g.image_base64, 'base64')).metadata()).width, 512);

    // test_generate_image: PNG bytes straight to a file
    const direct = await post('/generate/image', {
      prompt: 'photo of sks person reading a book in cozy library',
      num_inference_steps: 20,
    });
    assert.equal(direct.status, 200);
    assert.equal(direct.headers.get('content-type'), 'image/png');
    assert.ok((await sharp(Buffer.from(await direct.arrayBuffer())).metadata()).width === 512);

    // test_custom_params: 768x512, guidance 8.5, seed 42 → an image of that size
    const custom = await post('/generate/image', {
      prompt: 'photo of sks person, fashion photography, editorial style',
      num_inference_steps: 25,
      guidance_scale: 8.5,
      width: 768,
      height: 512,
      seed: 42,
    });
    assert.equal(custom.status, 200);
    const customMeta = await sharp(Buffer.from(await custom.arrayBuffer())).metadata();
    assert.deepEqual([customMeta.width, customMeta.height], [768, 512]);
    assert.deepEqual([backends.a1111.received.at(-1)!.cfg_scale, backends.a1111.received.at(-1)!.seed], [8.5, 42]);

    // test_seed_reproducibility: the same request with a seed, twice → the same bytes
    const request = {
      prompt: 'photo of sks person with dramatic lighting, cinematic, artistic',
      seed: 12345,
      num_inference_steps: 20,
    };
    const [a, b] = [
      (await (await post('/generate', request)).json()) as GenerateResponse,
      (await (await post('/generate', request)).json()) as GenerateResponse,
    ];
    assert.equal(a.image_base64, b.image_base64, 'byte-identical PNGs');
    assert.notEqual(a.image_path, b.image_path, 'each saved under its own id');
    const other = (await (await post('/generate', { ...request, seed: 54321 })).json()) as GenerateResponse;
    assert.notEqual(other.image_base64, a.image_base64);

    // a mapped user gets her model (USER_MODELS → images.users)
    const alice = (await (
      await post('/generate', { prompt: 'photo of sks person', user_id: 'alice' })
    ).json()) as GenerateResponse;
    assert.equal(alice.model_id, 'alice-model');

    // test_clear_cache
    const cleared = await fetch(`${base}/cache`, { method: 'DELETE' });
    assert.equal(cleared.status, 200);
    const c = (await cleared.json()) as {
      message: string;
      cleared_models: string[];
      details: Array<{ model: string; dropped: string[] }>;
    };
    assert.match(c.message, /^Cache cleared/);
    assert.deepEqual(c.cleared_models.sort(), ['Zhurah/sd15-dreambooth-photoai', 'alice-model']);
    assert.ok(c.details.find((d) => d.model === 'alice-model')!.dropped.some((d) => /models unloaded/.test(d)));
    assert.ok(
      backends.a1111.frees > 0 && backends.comfy.frees > 0,
      'the backends were asked to free their checkpoints',
    );
    assert.deepEqual(((await (await fetch(`${base}/health`)).json()) as { cached_models: string[] }).cached_models, []);
    const again = (await (await fetch(`${base}/cache`, { method: 'DELETE' })).json()) as { message: string };
    assert.equal(again.message, 'Cache cleared: nothing was cached');
  });

  test("Swagger at /docs lists the seed's routes", async () => {
    const spec = (await (await fetch(`${base}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    assert.ok(spec.paths['/generate']?.post && spec.paths['/generate/image']?.post && spec.paths['/cache']?.delete);
    assert.equal((await fetch(`${base}/docs`)).status, 200);
  });
});

describe('Stable Diffusion seed: the parameter table at and beyond both ends', () => {
  const table = [
    {
      field: 'num_inference_steps',
      ok: [1, 150],
      bad: [
        [0, 'greater_than_equal'],
        [151, 'less_than_equal'],
        [2.5, 'int_from_float'],
        ['many', 'int_parsing'],
      ],
    },
    {
      field: 'guidance_scale',
      ok: [1, 20],
      bad: [
        [0.99, 'greater_than_equal'],
        [20.01, 'less_than_equal'],
        ['high', 'float_parsing'],
      ],
    },
    {
      field: 'width',
      ok: [256, 1024],
      bad: [
        [248, 'greater_than_equal'],
        [1032, 'less_than_equal'],
        [260, 'multiple_of'],
      ],
    },
    {
      field: 'height',
      ok: [256, 1024],
      bad: [
        [255, 'greater_than_equal'],
        [1025, 'less_than_equal'],
        [300, 'multiple_of'],
      ],
    },
  ] as const;

  for (const { field, ok, bad } of table) {
    test(`${field}: ${ok.join(' and ')} are taken; ${bad.map(([v]) => JSON.stringify(v)).join(', ')} are 422 naming the field and range`, async () => {
      for (const value of ok) {
        const res = await post('/generate/image', {
          prompt: 'edge',
          [field]: value,
          ...(field === 'num_inference_steps' ? {} : { num_inference_steps: 1 }),
        });
        assert.equal(res.status, 200, `${field}=${value}: ${res.status === 200 ? '' : await res.text()}`);
        const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
        if (field === 'width') assert.equal(meta.width, value);
        if (field === 'height') assert.equal(meta.height, value);
      }
      for (const [value, type] of bad) {
        const res = await post('/generate', { prompt: 'edge', [field]: value });
        assert.equal(res.status, 422, `${field}=${value}`);
        const body = (await res.json()) as {
          detail: Array<{ loc: string[]; msg: string; type: string; input: unknown }>;
        };
        assert.deepEqual(body.detail[0]!.loc, ['body', field]);
        assert.equal(body.detail[0]!.type, type);
        // Pydantic v2's words; the table's float bounds ("1.0-20.0") print as Python floats.
        const [min, max] = field.startsWith('guid')
          ? ['1.0', '20.0']
          : field === 'num_inference_steps'
            ? ['1', '150']
            : ['256', '1024'];
        const msg = {
          greater_than_equal: `Input should be greater than or equal to ${min}`,
          less_than_equal: `Input should be less than or equal to ${max}`,
          int_from_float: 'Input should be a valid integer, got a number with a fractional part',
          int_parsing: 'Input should be a valid integer, unable to parse string as an integer',
          float_parsing: 'Input should be a valid number, unable to parse string as a number',
          multiple_of: 'Input should be a multiple of 8',
        }[type];
        assert.equal(body.detail[0]!.msg, msg);
        assert.deepEqual(body.detail[0]!.input, value, 'the value as sent, with its type');
      }
    });
  }

  test('prompt is required and a string; seed must be a whole number (null or -1: random)', async () => {
    const missing = (await (await post('/generate', { user_id: 'default' })).json()) as {
      detail: Array<{ loc: string[]; type: string }>;
    };
    assert.deepEqual([missing.detail[0]!.loc, missing.detail[0]!.type], [['body', 'prompt'], 'missing']);
    const number = (await (await post('/generate', { prompt: 42 })).json()) as { detail: Array<{ type: string }> };
    assert.equal(number.detail[0]!.type, 'string_type');
    for (const seed of [null, -1])
      assert.equal((await post('/generate', { prompt: 'p', seed, num_inference_steps: 1 })).status, 200, String(seed));
    for (const seed of [1.5, -2, 2 ** 32])
      assert.equal((await post('/generate', { prompt: 'p', seed })).status, 422, String(seed));
    const notJson = await fetch(`${base}/generate`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'photo of sks person',
    });
    assert.equal(notJson.status, 422);
  });

  test('a failing backend is a 502 with its message in FastAPI\'s {"detail": ...}; the server stays healthy', async () => {
    backends.a1111.fail = { status: 500, message: 'Model not loaded: sd15-dreambooth-photoai.safetensors' };
    const res = await post('/generate', { prompt: 'p' });
    assert.equal(res.status, 502);
    assert.match(
      ((await res.json()) as { detail: string }).detail,
      /Model not loaded: sd15-dreambooth-photoai\.safetensors/,
    );
    assert.equal((await fetch(`${base}/health`)).status, 200);
  });
});
