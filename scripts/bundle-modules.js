// Runs after tsc in `npm run build`: replaces compiled modules that re-export a dependency made of
// hundreds of small ES modules with one bundled file each (why: src/shared/typebox.ts). Needs
// esbuild (a devDependency); without it the compiled files are left as they are and still work.
import { existsSync, rmSync } from 'node:fs';

// Bundled from the TypeScript source, so the bundle is fresh even when tsc's incremental build
// left the compiled file alone.
const modules = [{ source: 'src/shared/typebox.ts', out: 'dist/src/shared/typebox.js' }];

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write(
    'bundle-modules: esbuild is not installed; the compiled files are used unbundled (slower start)\n',
  );
  process.exit(0);
}
for (const { source, out } of modules) {
  if (!existsSync(out)) throw new Error(`bundle-modules: ${out} was not built`);
  await esbuild.build({
    entryPoints: [source],
    outfile: out,
    allowOverwrite: true,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    legalComments: 'inline',
    logLevel: 'warning',
  });
  // tsc's source map described the file before bundling.
  rmSync(`${out}.map`, { force: true });
}
