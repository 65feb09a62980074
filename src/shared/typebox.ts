/**
 * TypeBox, the one way the rest of the code reaches it. `npm run build` replaces this module's
 * compiled file with a single-file bundle of the same exports (scripts/bundle-typebox.js): TypeBox 1
 * is about 700 ES modules, and loading them one by one took ~450 ms of CPU at every start, a third
 * of the time to "listening"; the bundle loads in ~30 ms. Without esbuild (a production install that
 * skipped devDependencies), the plain compiled file still works, only slower to load.
 */
export { default as Type, type Static, type TSchema } from 'typebox';
export { default as Value } from 'typebox/value';
