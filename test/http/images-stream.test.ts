/**
 * /v1/images/generations with `stream: true`, through the official openai SDK
 * (`client.images.generate({ stream: true })`): an OpenAI images backend's stream relayed (partial
 * images, completed images with their usage), AUTOMATIC1111's live previews (progress polling's
 * `current_image`) and ComfyUI's binary preview frames mapped to partial images, and failures
 * before and after the first event.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import sharp from 'sharp';
import { PartialImages } from '../../src/http/openai/image-stream.js';
import { fakeImageUsage } from '../helpers/fake-diffusion/openai-images.js';
import { startImageApp, type ImageBackends } from '../helpers/image-backends.js';

let backends: ImageBackends;
let base: string;
let closeAll: () => Promise<void>;
before(async () => {
  ({ backends, base, close: closeAll } = await startImageApp());
});
after(async () => {
  await closeAll();
});

const client = (): OpenAI => new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });

/** Every event of a stream, in order. */
async function events(params: OpenAI.ImageGenerateParamsStreaming): Promise<OpenAI.ImageGenStreamEvent[]> {
  const out: OpenAI.ImageGenStreamEvent[] = [];
  for await (const event of await client().images.generate(params)) out.push(event);
  return out;
}

const pixels = async (b64: string) => sharp(Buffer.from(b64, 'base64')).metadata();

describe('POST /v1/images/generations with stream: true (official openai SDK)', () => {
  test('an OpenAI images backend: stream and partial_images forwarded, its partial images and usage relayed, the image saved as PNG', async () => {
    const got = await events({
      model: 'dall-e-2',
      prompt: 'a paper crane',
      size: '256x256',
      stream: true,
      partial_images: 2,
      quality: 'low',
    });
    assert.deepEqual(backends.openai.received.at(-1), {
      model: 'dall-e-2',
      prompt: 'a paper crane',
      n: 1,
      size: '256x256',
      response_format: 'b64_json',
      quality: 'low',
      stream: true,
      partial_images: 2,
    });
    assert.deepEqual(
      got.map((e) => [e.type, e.type === 'image_generation.partial_image' ? e.partial_image_index : null]),
      [
        ['image_generation.partial_image', 0],
        ['image_generation.partial_image', 1],
        ['image_generation.completed', null],
      ],
    );
    const done = got.at(-1) as OpenAI.ImageGenCompletedEvent;
    assert.deepEqual(done.usage, fakeImageUsage);
    assert.equal(done.size, '256x256');
    assert.equal(done.quality, 'low');
    assert.equal(done.output_format, 'png');
    assert.equal((await pixels(done.b64_json)).width, 256);
    assert.equal((await pixels(got[0]!.b64_json)).format, 'png', 'a partial image is an image');
  });

  test('AUTOMATIC1111: live previews from progress polling become partial images spread over the steps', async () => {
    backends.a1111.stepDelayMs = 80;
    const before = backends.a1111.progressQueries.length;
    try {
      const got = await events({
        model: 'Zhurah/sd15-dreambooth-photoai',
        prompt: 'a lighthouse',
        size: '256x256',
        stream: true,
        partial_images: 2,
        num_inference_steps: 12,
      } as OpenAI.ImageGenerateParamsStreaming);
      const partials = got.filter((e) => e.type === 'image_generation.partial_image');
      // Polling sees some steps, not all: one or two previews, numbered in order (a busy machine may poll late).
      assert.ok(partials.length >= 1 && partials.length <= 2, `${partials.length} partial images`);
      assert.deepEqual(
        partials.map((e) => e.partial_image_index),
        partials.map((_e, i) => i),
      );
      for (const partial of partials) assert.equal((await pixels(partial.b64_json)).width, 64, 'the preview itself');
      const done = got.at(-1) as OpenAI.ImageGenCompletedEvent;
      assert.equal(done.type, 'image_generation.completed');
      assert.equal((await pixels(done.b64_json)).width, 256);
      assert.equal(done.usage.total_tokens, 0, 'a diffusion backend counts no tokens');
      assert.ok(
        backends.a1111.progressQueries.slice(before).every((q) => q === 'skip_current_image=false'),
        'previews asked for',
      );
      assert.equal(backends.a1111.received.at(-1)!.steps, 12);
    } finally {
      backends.a1111.stepDelayMs = 0;
    }
  });

  test("ComfyUI: the websocket's binary preview frames become partial images (JPEG), then the image", async () => {
    backends.comfy.stepDelayMs = 20;
    try {
      const got = await events({
        model: 'alice-model',
        prompt: 'a teapot',
        size: '256x256',
        stream: true,
        partial_images: 3,
        num_inference_steps: 8,
      } as OpenAI.ImageGenerateParamsStreaming);
      const partials = got.filter((e) => e.type === 'image_generation.partial_image');
      assert.deepEqual(
        partials.map((e) => [e.partial_image_index, e.output_format]),
        [
          [0, 'jpeg'],
          [1, 'jpeg'],
          [2, 'jpeg'],
        ],
      );
      assert.equal((await pixels(partials[0]!.b64_json)).format, 'jpeg');
      assert.equal(got.at(-1)!.type, 'image_generation.completed');
      assert.equal(got.filter((e) => e.type === 'image_generation.completed').length, 1);
    } finally {
      backends.comfy.stepDelayMs = 0;
    }
  });

  test('partial_images 0 (the default): the completed image alone; n images: one completed event each', async () => {
    const got = await events({ model: 'dall-e-2', prompt: 'two moons', size: '256x256', n: 2, stream: true });
    assert.deepEqual(
      got.map((e) => e.type),
      ['image_generation.completed', 'image_generation.completed'],
    );
    assert.equal(backends.openai.received.at(-1)!.partial_images, 0);
  });

  test('failures: a bad partial_images and an upstream refusal keep their status (nothing sent yet); a failure mid-stream is an error event', async () => {
    await assert.rejects(
      client().images.generate({ model: 'dall-e-2', prompt: 'x', stream: true, partial_images: 5 }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'partial_images',
    );
    backends.openai.fail = { status: 400, message: 'Your request was rejected by the safety system.' };
    await assert.rejects(
      client().images.generate({ model: 'dall-e-2', prompt: 'x', stream: true, partial_images: 1 }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /safety system/.test(error.message),
    );
    backends.openai.failMidStream = 'the GPU fell over';
    await assert.rejects(
      events({ model: 'dall-e-2', prompt: 'x', size: '256x256', stream: true, partial_images: 3 }),
      (error: unknown) => error instanceof OpenAI.APIError && /GPU fell over/.test(error.message),
    );
  });
});

test('PartialImages: numbered previews keep their numbers; unnumbered ones are spread over the steps', () => {
  const sent: Array<[number, string]> = [];
  const spread = new PartialImages(2, (image, index) => sent.push([index, image.toString()]));
  for (let step = 1; step <= 9; step++) spread.offer({ image: Buffer.from(`s${step}`), step, steps: 9 });
  assert.deepEqual(sent, [
    [0, 's3'],
    [1, 's6'],
  ]);
  const numbered: number[] = [];
  const own = new PartialImages(1, (_image, index) => numbered.push(index));
  for (const index of [0, 1, 2]) own.offer({ image: Buffer.from('x'), index });
  assert.deepEqual(numbered, [0]);
});
