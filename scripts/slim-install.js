// Runs after `npm ci` / `npm install` (package.json "postinstall") and removes what an install carries but the
// default never loads: onnxruntime-node's binaries for every other platform (255 MB), node-llama-cpp's CUDA, Vulkan
// and other CPUs' builds (620 MB), the tesseract.js data's legacy copies, tesseract.js-core's browser copies and the
// source maps of dependencies. `npm run llama:gpu -- cuda|vulkan` brings a GPU build back. Idempotent, and quiet
// unless it removed something.
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
// node-llama-cpp's builds are named <os>-<arch>[-gpu]; its Linux ARM ones install on every Linux machine.
const llama = join('node_modules', '@node-llama-cpp');
const llamaOs = { linux: 'linux', darwin: 'mac', win32: 'win' }[process.platform];
const llamaArch = { x64: 'x64', arm64: 'arm64', arm: 'armv7l' }[process.arch];
if (existsSync(llama)) {
  for (const name of readdirSync(llama)) {
    const gpu = /-(cuda|cuda-ext|vulkan)$/.test(name);
    const here = name === `${llamaOs}-${llamaArch}` || name.startsWith(`${llamaOs}-${llamaArch}-`);
    if (gpu || !here) remove.push(join(llama, name));
  }
}
// The tesseract.js language packages carry each language twice: 4.0.0 (legacy + LSTM) and 4.0.0_best_int (LSTM,
// the one visiongate loads, src/engines/tesseract-js/language-data.ts). The orientation data (osd) stays whole.
const tessdata = join('node_modules', '@tesseract.js-data');
if (existsSync(tessdata)) {
  for (const lang of readdirSync(tessdata)) {
    const legacy = join(tessdata, lang, '4.0.0');
    if (lang !== 'osd' && existsSync(join(tessdata, lang, '4.0.0_best_int')) && existsSync(legacy)) remove.push(legacy);
  }
}
// Biome (the linter) installs both its glibc and its musl Linux binary; one of them never runs.
const biome = join('node_modules', '@biomejs');
const glibc = process.platform === 'linux' && Boolean(process.report?.getReport().header.glibcVersionRuntime);
if (existsSync(biome) && process.platform === 'linux') {
  for (const name of readdirSync(biome)) {
    if (!name.startsWith('cli-linux-')) continue;
    if (name.endsWith('-musl') === glibc) remove.push(join(biome, name));
  }
}

// tesseract.js-core ships each WebAssembly build twice: as a .wasm file, which Node loads (tesseract.js's
// worker-script/node/getCore.js requires tesseract-core-*.js, which reads the .wasm beside it), and base64-inlined
// in a .wasm.js for browsers that cannot fetch a second file. visiongate runs tesseract.js in Node only.
const tesseractCore = join('node_modules', 'tesseract.js-core');
if (existsSync(tesseractCore)) {
  for (const name of readdirSync(tesseractCore)) if (name.endsWith('.wasm.js')) remove.push(join(tesseractCore, name));
}
// Source maps of third-party bundles (about 80 MB: pdf.js, pdf-lib, ReDoc, the AI SDK, ...). Nothing loads them
// at run time (visiongate does not start Node with --enable-source-maps); they only map a dependency's minified
// code back to its sources in a debugger. visiongate's own maps live in dist/ and are kept.
const sourceMap = /\.(?:js|mjs|cjs|jsx|ts|mts|cts|tsx|css)\.map$/;
(function maps(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) maps(path);
    else if (entry.isFile() && sourceMap.test(entry.name)) remove.push(path);
  }
})('node_modules');

let freed = 0;
for (const path of remove) {
  freed += size(path);
  rmSync(path, { recursive: true, force: true });
}
if (freed > 0)
  console.log(
    `visiongate: removed ${Math.round(freed / 1e6)} MB the default never loads: other platforms' and GPU builds, browser copies, source maps (see README, "Install size")`,
  );
