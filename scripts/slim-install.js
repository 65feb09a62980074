// Runs after `npm ci` / `npm install` (package.json "postinstall"). Two packages ship native builds that the
// default never loads: onnxruntime-node carries every platform's binaries in one package (288 MB), and
// node-llama-cpp pulls its CUDA and Vulkan builds (540 MB) beside the CPU one. Only this machine's
// onnxruntime binaries and llama.cpp's CPU builds are kept; `npm run llama:gpu -- cuda|vulkan` brings a GPU
// build back. Idempotent, and quiet unless it removed something.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

function size(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + size(join(path, name)), 0);
}

const remove = [];
const onnx = join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
if (existsSync(onnx)) {
  for (const platform of readdirSync(onnx)) {
    for (const arch of readdirSync(join(onnx, platform))) {
      if (platform !== process.platform || arch !== process.arch) remove.push(join(onnx, platform, arch));
    }
  }
}
const llama = join('node_modules', '@node-llama-cpp');
if (existsSync(llama)) {
  for (const name of readdirSync(llama)) if (/-(cuda|cuda-ext|vulkan)$/.test(name)) remove.push(join(llama, name));
}

let freed = 0;
for (const path of remove) {
  freed += size(path);
  rmSync(path, { recursive: true, force: true });
}
if (freed > 0)
  console.log(
    `visiongate: removed ${Math.round(freed / 1e6)} MB of native builds the default never loads (see README, "Install size")`,
  );
