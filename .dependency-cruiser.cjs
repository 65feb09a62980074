/**
 * The layer rules of DESIGN.md ("Layers"), checked on every `npm test` (`npm run lint:imports`).
 * An import goes down this list, never up; there are no exceptions, and none may be added here:
 * move the shared type or helper down instead (src/shared/), or pass an interface of the
 * importing layer as an argument.
 */
const layers = [
  { name: 'entry', path: '^src/(main|app|services)\\.ts$|^src/cli/' },
  { name: 'http-surface', path: '^src/http/(compat|openai|native)/' },
  { name: 'http', path: '^src/http/' },
  { name: 'jobs', path: '^src/jobs/' },
  { name: 'core', path: '^src/(core|images)/' },
  { name: 'runtime', path: '^src/runtime/' },
  { name: 'engines', path: '^src/engines/' },
  { name: 'io', path: '^src/(documents|net|auth)/' },
  { name: 'floor', path: '^src/(shared|errors|config)/' },
];

/** `layers[i]` may not import any layer above it. */
const upward = layers.slice(1).map((layer, i) => ({
  name: `no-up-from-${layer.name}`,
  comment: `${layer.name} may import only the layers below it (DESIGN.md "Layers")`,
  severity: 'error',
  from: { path: layer.path, pathNot: layers.slice(0, i + 1).map((above) => above.path) },
  to: { path: layers.slice(0, i + 1).map((above) => above.path) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'surfaces-apart',
      comment: 'the seed, /v1 and /api surfaces share helpers from src/http/, never each other',
      severity: 'error',
      from: { path: '^src/http/(compat|openai|native)/' },
      to: { path: '^src/http/(compat|openai|native)/', pathNot: '^src/http/$1/' },
    },
    {
      name: 'compat-through-core',
      comment: 'a seed adapter goes through the core: it never reaches engines/ or runtime/ itself',
      severity: 'error',
      from: { path: '^src/http/compat/' },
      to: { path: '^src/(engines|runtime)/' },
    },
    {
      name: 'io-apart',
      comment: 'documents/, net/ and auth/ are independent leaves',
      severity: 'error',
      from: { path: '^src/(documents|net|auth)/' },
      to: { path: '^src/(documents|net|auth)/', pathNot: '^src/$1/' },
    },
    {
      name: 'specs-type-only',
      comment: 'engine specs hold interfaces only: importing one never runs code',
      severity: 'error',
      from: {},
      to: { path: '^src/engines/[a-z-]*spec\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'floor-is-floor',
      comment: 'errors/ imports nothing of ours; config/ only its schema, errors/ and shared/; shared/ only errors/',
      severity: 'error',
      from: { path: '^src/(errors|shared)/' },
      to: { path: '^src/', pathNot: ['^src/errors/', '^src/shared/'] },
    },
    {
      name: 'errors-bottom',
      severity: 'error',
      from: { path: '^src/errors/' },
      to: { path: '^src/', pathNot: '^src/errors/' },
    },
    {
      name: 'config-alone',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: ['^src/config/', '^src/errors/', '^src/shared/'] },
    },
    {
      name: 'http-only-in-http',
      comment: 'Fastify belongs to the HTTP surfaces and the entry: the core runs with no HTTP at all',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/http/', '^src/(app|main)\\.ts$'] },
      to: { path: '^node_modules/(fastify|@fastify)/' },
    },
    {
      name: 'no-entry-imports',
      comment: 'nothing imports the entry points; dependencies arrive as arguments typed by the importing layer',
      severity: 'error',
      from: { pathNot: '^src/(main|app)\\.ts$|^src/cli/|^test/|^bench/' },
      to: { path: '^src/(main|app|services)\\.ts$' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-src-to-test',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
