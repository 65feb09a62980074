/** Proxy overhead of /v1/chat/completions and local GGUF tokens/s, each against its direct baseline. */
import { fmt, pairedLoad, percentile } from './stats.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startServer } from '../test/helpers/server-process.js';
import { writeTinyGguf } from '../test/fixtures/tiny-gguf.js';

/** CPU time (user + system) a process used so far, in ms, from /proc (Linux); NaN elsewhere. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/** A bench helper process (bench/NAME.js with `args`), up once it prints "<said> at URL". */
async function helperProcess(
  name: string,
  said: string,
  args: string[] = [],
): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`./${name}.js`, import.meta.url)), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = new RegExp(`${said} at (\\S+)`).exec(out);
      if (match) resolve(match[1]!);
    });
  });
  return {
    url,
    close: async () => {
      child.kill();
      await once(child, 'exit');
    },
  };
}

export async function proxyBench(): Promise<string[]> {
  const report: string[] = [];
  // In its own process: a direct call crosses a process boundary as the proxied one does.
  const upstream = await helperProcess('upstream-process', 'upstream');
  // The floor: a bare Fastify + undici pass-through to the same upstream (bench/passthrough-process.ts).
  const bare = await helperProcess('passthrough-process', 'passthrough', [upstream.url]);
  const dir = mkdtempSync(join(tmpdir(), 'vg-bench-proxy-'));
  const gguf = writeTinyGguf(join(dir, 'tiny.gguf'));
  const config = join(dir, 'visiongate.yaml');
  writeFileSync(
    config,
    `models:\n  echo:\n    chat: { backend: openai, urls: ["${upstream.url}"], concurrency: 64, maxQueue: 256 }\n  tiny:\n    chat: { backend: llama-cpp, path: "${gguf}", contextTokens: 2048, threads: 1 }\n`,
  );
  const server = await startServer({ VISIONGATE_CONFIG: config, VISIONGATE_LOG_LEVEL: 'info' });
  try {
    // Fixed closed-loop concurrency; each client alternates direct and proxied calls (half of them
    // starting with each), so whatever else loads the machine weighs on both paths alike. A warm-up of
    // 300 pairs first (JIT, kept-alive connections on both hops), then 2,000 measured pairs a setting.
    for (const stream of [false, true]) {
      const body = () =>
        JSON.stringify({
          model: 'echo',
          stream,
          messages: [{ role: 'user', content: 'one two three four five six seven eight' }],
        });
      for (const concurrency of [1, 4]) {
        const total = 2000;
        const paths = [`${upstream.url}/chat/completions`, `${server.url}/v1/chat/completions`] as const;
        await pairedLoad(...paths, body, concurrency, 300);
        const cpuBefore = cpuMs(server.child.pid);
        const run = await pairedLoad(...paths, body, concurrency, total);
        // The server's own CPU time per proxied request: what the proxy costs, whatever the machine's load does to latency.
        const cpu = (cpuMs(server.child.pid) - cpuBefore) / total;
        const added = (p: number): string => fmt(percentile(run.proxied, p) - percentile(run.direct, p));
        // The same against the bare pass-through, right after: what the stack alone adds on this machine now.
        await pairedLoad(paths[0], `${bare.url}/v1/chat/completions`, body, concurrency, 300);
        const floor = await pairedLoad(paths[0], `${bare.url}/v1/chat/completions`, body, concurrency, total);
        const floorAdded = (p: number): string => fmt(percentile(floor.proxied, p) - percentile(floor.direct, p));
        report.push(
          `/v1 proxy ${stream ? 'SSE ' : 'JSON'} ×${concurrency} (${total} pairs, interleaved, after 300 warm-up): added p50 ${added(50)} ms, p99 ${added(99)} ms (direct p50 ${fmt(percentile(run.direct, 50))} / p99 ${fmt(percentile(run.direct, 99))} ms, proxied p50 ${fmt(percentile(run.proxied, 50))} / p99 ${fmt(percentile(run.proxied, 99))} ms); server CPU ${fmt(cpu, 3)} ms a request | bare Fastify + undici pass-through: added p50 ${floorAdded(50)} ms, p99 ${floorAdded(99)} ms`,
        );
      }
    }
    // Local GGUF: tokens/s through the server against node-llama-cpp called directly, same model, threads and budget.
    const prompt = {
      model: 'tiny',
      max_tokens: 128,
      temperature: 0.8,
      messages: [{ role: 'user', content: 'Write.' }],
    };
    let tokens = 0;
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      const res = (await (
        await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          body: JSON.stringify(prompt),
          headers: { 'content-type': 'application/json' },
        })
      ).json()) as { usage: { completion_tokens: number } };
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
    report.push(
      `local GGUF (tiny test model, 1 thread): ${fmt(served, 0)} tokens/s through /v1 vs ${fmt(direct, 0)} tokens/s calling node-llama-cpp directly (${fmt(served / direct)}×)`,
    );
  } finally {
    await server.stop();
    await bare.close();
    await upstream.close();
  }
  return report;
}
