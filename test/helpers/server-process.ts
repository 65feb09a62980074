import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface ServerProcess {
  url: string;
  /** Everything it printed so far (pino JSON lines). */
  readonly output: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the real server (`node dist/src/main.js`) on a free loopback port. */
export async function startServer(env: Record<string, string> = {}): Promise<ServerProcess> {
  return startProcess(['dist/src/main.js'], env, /listening at (http:\/\/127\.0\.0\.1:\d+)/i);
}

/** Starts `visiongate worker` (no HTTP): ready once it says it runs jobs. */
export async function startWorker(env: Record<string, string> = {}): Promise<ServerProcess> {
  return startProcess(['bin/visiongate.js', 'worker'], env, /worker running (jobs)/);
}

async function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<ServerProcess> {
  // Each server keeps its jobs in memory unless the test gives it a file (never the repo's data/).
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      VISIONGATE_PORT: '0',
      VISIONGATE_HOST: '127.0.0.1',
      VISIONGATE_JOBS__SQLITE_PATH: ':memory:',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    // Generous: a loaded 2-core machine can take a while to start Node, sharp and the worker threads.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within 60 s:\n${output}`));
    }, 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    child,
    get output() {
      return output;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
