// `npm run llama:gpu -- cuda` (or `vulkan`): installs node-llama-cpp's prebuilt GPU build from the npm
// registry. The default install replaces those builds (540 MB) with a stub, since the CPU default never
// loads them. Run it again after every `npm ci`, which puts the stub back.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, renameSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const kind = process.argv[2];
const names = {
  cuda: ['cuda', 'cuda-ext'],
  vulkan: ['vulkan'],
};
if (!kind || !names[kind]) {
  console.error('usage: npm run llama:gpu -- cuda|vulkan');
  process.exit(2);
}
const os = { linux: 'linux', win32: 'win' }[process.platform];
if (!os || process.arch !== 'x64') {
  console.error(
    `node-llama-cpp publishes ${kind} builds for linux-x64 and win-x64 only (this is ${process.platform}-${process.arch}); on macOS Metal is in the default build`,
  );
  process.exit(2);
}
const llama = JSON.parse(readFileSync(join('node_modules', 'node-llama-cpp', 'package.json'), 'utf8'));
const scratch = mkdtempSync(join(tmpdir(), 'llama-gpu-'));
try {
  for (const suffix of names[kind]) {
    const name = `@node-llama-cpp/${os}-x64-${suffix}`;
    const version = llama.optionalDependencies[name];
    console.log(`fetching ${name}@${version} from the npm registry`);
    const file = execFileSync('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', scratch], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop();
    const unpacked = join(scratch, suffix);
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', join(scratch, file), '-C', unpacked, '--strip-components=1']);
    const target = join('node_modules', name);
    rmSync(target, { recursive: true, force: true });
    renameSync(unpacked, target);
  }
  console.log(`done: set "gpu": "${kind}" on your llama-cpp models`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
