/** Proxy overhead of /v1/chat/completions and local GGUF tokens/s, each against its direct baseline. */
import { fmt, percentile, postLoad } from './stats.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeUpstream } from '../test/helpers/fake-upstream.js';
import { startServer } from '../test/helpers/server-process.js';
import { writeTinyGguf } from '../test/fixtures/tiny-gguf.js';

export async function proxyBench(): Promise<string[]> {
  const report: string[] = [];
  const upstream = await startFakeUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'vg-bench-proxy-'));
  const gguf = writeTinyGguf(join(dir, 'tiny.gguf'));
  const config = join(dir, 'visiongate.yaml');
  writeFileSync(config, `models:\n  echo:\n    chat: { backend: openai, urls: ["${upstream.url}"], concurrency: 64, maxQueue: 256 }\n  tiny:\n    chat: { backend: llama-cpp, path: "${gguf}", contextTokens: 2048, threads: 1 }\n`);
  const server = await startServer({ VISIONGATE_CONFIG: config, VISIONGATE_LOG_LEVEL: 'info' });
  try {
    for (const stream of [false, true]) {
      const body = (model: string) => JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'one two three four five six seven eight' }] });
      for (const concurrency of [1, 16, 64]) {
        const total = Math.max(200, concurrency * 10);
        await postLoad(`${upstream.url}/chat/completions`, body('echo'), concurrency, 50); // warm both paths
        await postLoad(`${server.url}/v1/chat/completions`, body('echo'), concurrency, 50);
        const direct = await postLoad(`${upstream.url}/chat/completions`, body('echo'), concurrency, total);
        const proxied = await postLoad(`${server.url}/v1/chat/completions`, body('echo'), concurrency, total);
        report.push(
          `/v1 proxy ${stream ? 'SSE ' : 'JSON'} ×${concurrency}: added p50 ${fmt(percentile(proxied.latencies, 50) - percentile(direct.latencies, 50))} ms, p99 ${fmt(percentile(proxied.latencies, 99) - percentile(direct.latencies, 99))} ms; throughput ${fmt(total / proxied.seconds, 0)} vs ${fmt(total / direct.seconds, 0)} req/s direct (${fmt(direct.seconds / proxied.seconds)}×)`,
        );
      }
    }
    // Local GGUF: tokens/s through the server against node-llama-cpp called directly, same model, threads and budget.
    const prompt = { model: 'tiny', max_tokens: 128, temperature: 0.8, messages: [{ role: 'user', content: 'Write.' }] };
    let tokens = 0;
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      const res = (await (await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(prompt), headers: { 'content-type': 'application/json' } })).json()) as { usage: { completion_tokens: number } };
      tokens += res.usage.completion_tokens;
    }
    const served = tokens / ((performance.now() - t0) / 1000);
    const { getLlama, LlamaChatSession } = await import('node-llama-cpp');
    const llama = await getLlama({ gpu: false, build: 'never' });
    const model = await llama.loadModel({ modelPath: gguf });
    let directTokens = 0;
    const t1 = performance.now();
    for (let i = 0; i < 5; i++) {
      const context = await model.createContext({ contextSize: 2048, threads: 1 });
      const session = new LlamaChatSession({ contextSequence: context.getSequence(), systemPrompt: '' });
      await session.prompt('Write.', { maxTokens: 128, temperature: 0.8, onToken: (t) => (directTokens += t.length) });
      await context.dispose();
    }
    const direct = directTokens / ((performance.now() - t1) / 1000);
    await model.dispose();
    report.push(`local GGUF (tiny test model, 1 thread): ${fmt(served, 0)} tokens/s through /v1 vs ${fmt(direct, 0)} tokens/s calling node-llama-cpp directly (${fmt(served / direct)}×)`);
  } finally {
    await server.stop();
    await upstream.close();
  }
  return report;
}
