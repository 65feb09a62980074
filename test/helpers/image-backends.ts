import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestApp, type TestApp } from './app.js';
import { startFakeAutomatic1111, type FakeAutomatic1111 } from './fake-diffusion/automatic1111.js';
import { startFakeComfyUi, type FakeComfyUi } from './fake-diffusion/comfyui.js';
import { startFakeOpenAiImages, type FakeOpenAiImages } from './fake-diffusion/openai-images.js';

export interface ImageBackends {
  a1111: FakeAutomatic1111;
  comfy: FakeComfyUi;
  openai: FakeOpenAiImages;
  outputDir: string;
  /** Config overrides binding the seed's model (A1111), alice's model (ComfyUI) and dall-e-2 (OpenAI). */
  config: Record<string, unknown>;
  close(): Promise<void>;
}

/** The three fake diffusion servers and a config that uses them the way the seed maps users to models. */
export async function startImageBackends(): Promise<ImageBackends> {
  const [a1111, comfy, openai] = await Promise.all([
    startFakeAutomatic1111(),
    startFakeComfyUi(),
    startFakeOpenAiImages(),
  ]);
  const outputDir = mkdtempSync(join(tmpdir(), 'visiongate-images-'));
  const config = {
    models: {
      'Zhurah/sd15-dreambooth-photoai': {
        name: 'SD 1.5 DreamBooth (photoai)',
        image: { backend: 'automatic1111', urls: [a1111.root], checkpoint: 'sd15-dreambooth-photoai.safetensors' },
      },
      'alice-model': { image: { backend: 'comfyui', urls: [comfy.root], checkpoint: 'alice.safetensors' } },
      'dall-e-2': { image: { backend: 'openai', urls: [openai.url], apiKey: 'sk-upstream' } },
    },
    images: {
      users: { default: 'Zhurah/sd15-dreambooth-photoai', alice: 'alice-model' },
      outputDir,
      presets: { cinematic: { prompt: '{prompt}, cinematic lighting, 35mm', negativePrompt: 'cartoon' } },
    },
  };
  return {
    a1111,
    comfy,
    openai,
    outputDir,
    config,
    async close() {
      await Promise.all([a1111.close(), comfy.close(), openai.close()]);
      rmSync(outputDir, { recursive: true, force: true });
    },
  };
}

/** The fakes and a visiongate using them, listening on 127.0.0.1 (for clients that need a socket: curl, the SDK, aborts). */
export async function startImageApp(): Promise<{
  backends: ImageBackends;
  t: TestApp;
  base: string;
  close(): Promise<void>;
}> {
  const backends = await startImageBackends();
  const t = await buildTestApp(backends.config);
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    backends,
    t,
    base: `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`,
    async close() {
      await t.close();
      await backends.close();
    },
  };
}
