/**
 * Text-to-image overhead: POST /api/v1/images through visiongate (validation, the job queue
 * that keeps the history, the PNG text chunk, the file write) against calling the
 * AUTOMATIC1111 wire format directly, on the same fake backend (no sampling time).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeAutomatic1111 } from '../test/helpers/fake-diffusion/automatic1111.js';
import { startServer } from '../test/helpers/server-process.js';
import { fmt, percentile, postLoad } from './stats.js';

export async function imagesBench(): Promise<string[]> {
  const report: string[] = [];
  const backend = await startFakeAutomatic1111();
  const dir = mkdtempSync(join(tmpdir(), 'vg-bench-images-'));
  const config = join(dir, 'visiongate.yaml');
  writeFileSync(
    config,
    `models:\n  sd:\n    image: { backend: automatic1111, urls: ["${backend.root}"], concurrency: 16, maxQueue: 256 }\nimages: { outputDir: "${join(dir, 'out')}" }\njobs: { concurrency: 16 }\n`,
  );
  const server = await startServer({ VISIONGATE_CONFIG: config });
  try {
    const params = { prompt: 'a lighthouse at dawn', seed: 42, width: 256, height: 256 };
    const direct = JSON.stringify({
      ...params,
      negative_prompt: '',
      steps: 1,
      cfg_scale: 7.5,
      batch_size: 1,
      n_iter: 1,
      override_settings: { return_grid: false },
      send_images: true,
      save_images: false,
    });
    const through = JSON.stringify({ ...params, num_inference_steps: 1 });
    for (const concurrency of [1, 4]) {
      const total = 100;
      await postLoad(`${backend.root}/sdapi/v1/txt2img`, direct, concurrency, 20);
      await postLoad(`${server.url}/api/v1/images`, through, concurrency, 20);
      const a = await postLoad(`${backend.root}/sdapi/v1/txt2img`, direct, concurrency, total);
      const b = await postLoad(`${server.url}/api/v1/images`, through, concurrency, total);
      report.push(
        `images via /api/v1/images ×${concurrency} (256×256 PNG from a fake A1111, no sampling time): added p50 ${fmt(percentile(b.latencies, 50) - percentile(a.latencies, 50))} ms, p99 ${fmt(percentile(b.latencies, 99) - percentile(a.latencies, 99))} ms over calling /sdapi/v1/txt2img directly (${fmt(total / b.seconds, 0)} vs ${fmt(total / a.seconds, 0)} images/s)`,
      );
    }
  } finally {
    await server.stop();
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}
