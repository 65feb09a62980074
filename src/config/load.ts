import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Value } from '../shared/typebox.js';
import { ConfigSchema, ModelSchema, type Config } from './schema.js';
import { defaultModels, seedEnvironment } from './seed-models.js';
import { parseYaml } from '../shared/yaml.js';

/** A bad configuration: start-up stops with this message, which names the key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Tree = Record<string, unknown>;

/** `MAX_DOCUMENT_BYTES` → `maxDocumentBytes` */
function camel(snake: string): string {
  return snake.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (typeof next === 'object' && next !== null ? next : (node[key] = {})) as Tree;
  }
  node[path[path.length - 1]!] = value;
}

/** Short names for the settings people set most. */
const envShortcuts: Record<string, string[]> = {
  VISIONGATE_HOST: ['server', 'host'],
  VISIONGATE_PORT: ['server', 'port'],
  VISIONGATE_LOG_LEVEL: ['log', 'level'],
};

/**
 * `VISIONGATE_SECTION__KEY=value` sets `section.key` (e.g. `VISIONGATE_LIMITS__MAX_PAGES=50`);
 * list values are comma-separated.
 */
function configFromEnv(env: NodeJS.ProcessEnv): Tree {
  const tree: Tree = {};
  for (const [name, raw] of Object.entries(env)) {
    if (
      raw === undefined ||
      !name.startsWith('VISIONGATE_') ||
      name === 'VISIONGATE_CONFIG' ||
      keyVariables.includes(name)
    )
      continue;
    if (name.startsWith('VISIONGATE_TEST_')) continue; // the test suite's own switches (scripts/run-tests.js)
    const path = envShortcuts[name] ?? name.slice('VISIONGATE_'.length).split('__').map(camel);
    setPath(tree, path, raw);
  }
  return tree;
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    const bothObjects =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof prev === 'object' &&
      prev !== null &&
      !Array.isArray(prev);
    out[key] = bothObjects ? merge(prev as Tree, value as Tree) : value;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Env strings into the schema's types ("8000" → 8000, "a,b" → ["a","b"]). */
function coerceStrings(schema: unknown, value: unknown): unknown {
  const s = schema as { type?: string; properties?: Record<string, unknown> };
  if (s.type === 'object' && typeof value === 'object' && value !== null && s.properties) {
    const out: Tree = { ...(value as Tree) };
    for (const [key, child] of Object.entries(s.properties)) if (key in out) out[key] = coerceStrings(child, out[key]);
    return out;
  }
  if (typeof value !== 'string') return value;
  if (s.type === 'array')
    return value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  if (s.type === 'integer' || s.type === 'number') return value.trim() === '' ? value : Number(value);
  if (s.type === 'boolean')
    return value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
  return value;
}

/** Plain API keys from the environment (containers: `docker run -e VISIONGATE_API_KEY=...`), comma-separated. */
const keyVariables = ['VISIONGATE_API_KEY', 'VISIONGATE_API_KEYS'];

/**
 * `VISIONGATE_API_KEY(S)`: the keys, hashed at once (only the hash is kept), turn auth on. The plain key is
 * never stored or logged.
 */
function keysFromEnv(env: NodeJS.ProcessEnv): Tree | undefined {
  const keys = keyVariables.flatMap((name) =>
    (env[name] ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean),
  );
  if (keys.length === 0) return undefined;
  const short = keys.findIndex((k) => k.length < 16);
  if (short >= 0)
    throw new ConfigError(
      `VISIONGATE_API_KEY: key ${short + 1} is ${keys[short]!.length} characters; use 16 or more (openssl rand -hex 24)`,
    );
  return {
    enabled: true,
    keys: keys.map((key, i) => ({
      name: `env-${i + 1}`,
      sha256: createHash('sha256').update(key, 'utf8').digest('hex'),
    })),
  };
}

/** Builds the frozen config from defaults ← file ← env ← explicit overrides (tests). */
export function loadConfig(
  options: { env?: NodeJS.ProcessEnv; file?: string; overrides?: Tree } = {},
): Readonly<Config> {
  const env = options.env ?? {};
  const file = options.file ?? env.VISIONGATE_CONFIG;
  let fromFile: Tree = {};
  if (file) {
    try {
      const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
      fromFile = (parsed ?? {}) as Tree;
    } catch (error) {
      throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
    }
  }
  // Seed model ids come first, so a config that adds or rebinds models keeps the others; then the
  // seeds' own variables (VLLM_URL, API_PORT…), under the file and VISIONGATE_* variables.
  let base: Tree = { models: defaultModels() };
  try {
    base = merge(base, coerceStrings(ConfigSchema, seedEnvironment(env)) as Tree);
  } catch (error) {
    throw new ConfigError(`VLLM_URL must be a URL such as http://gpu-server (${(error as Error).message})`);
  }
  const raw = merge(
    merge(merge(base, fromFile), coerceStrings(ConfigSchema, configFromEnv(env)) as Tree),
    options.overrides ?? {},
  );
  const envKeys = keysFromEnv(env);
  if (envKeys) {
    const auth = (raw.auth ?? {}) as Tree;
    raw.auth = {
      ...auth,
      enabled: true,
      keys: [...((auth.keys as unknown[] | undefined) ?? []), ...(envKeys.keys as unknown[])],
    };
  }
  const withDefaults = Value.Default(ConfigSchema, structuredClone(raw)) as Tree;
  // Value.Default does not descend into Record values: fill each model's defaults itself.
  const models = withDefaults.models as Record<string, unknown> | undefined;
  if (models && typeof models === 'object')
    for (const id of Object.keys(models)) models[id] = Value.Default(ModelSchema, models[id]);
  if (!Value.Check(ConfigSchema, withDefaults)) {
    const problems = Value.Errors(ConfigSchema, withDefaults).map((e) => {
      const key = e.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)';
      const extra =
        e.keyword === 'additionalProperties'
          ? ` (unknown key ${JSON.stringify((e.params as { additionalProperties?: string[] }).additionalProperties ?? [])})`
          : '';
      return `${key}: ${e.message}${extra}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const config = withDefaults as Config;
  // Cross-field rules the schema cannot say.
  const problems: string[] = Object.entries(config.models).flatMap(([id, m]) => {
    if ((m.chat?.backend === 'openai' || m.chat?.backend === 'ollama') && !m.chat.urls)
      return [`models.${id}.chat.urls: the ${m.chat.backend} backend needs at least one URL`];
    if (m.chat?.backend === 'llama-cpp' && !m.chat.path)
      return [`models.${id}.chat.path: the llama-cpp backend needs the path of a .gguf file`];
    if (m.chat?.backend === 'llama-cpp' && m.chat.path && !existsSync(m.chat.path))
      return [`models.${id}.chat.path: no file at ${m.chat.path}`];
    return [];
  });
  const imageModels = Object.entries(config.models)
    .filter(([, m]) => m.image)
    .map(([id]) => id);
  for (const [user, model] of Object.entries(config.images.users))
    if (!imageModels.includes(model))
      problems.push(
        `images.users.${user}: '${model}' is not a model with an image backend (models.<name>.image); those are: ${imageModels.join(', ') || 'none'}`,
      );
  const defaultImage = config.images.defaultModel;
  if (defaultImage && !imageModels.includes(defaultImage))
    problems.push(
      `images.defaultModel: '${defaultImage}' is not a model with an image backend; those are: ${imageModels.join(', ') || 'none'}`,
    );
  for (const [id, m] of Object.entries(config.models)) {
    const image = m.image;
    if (image?.backend === 'comfyui' && !image.checkpoint && !image.workflow)
      problems.push(
        `models.${id}.image.checkpoint: the comfyui backend needs the checkpoint file name its loader takes (or a workflow of your own)`,
      );
    // The workflow's content is checked where the engines are built (services.ts, startupProblems).
    if (image?.workflow && !existsSync(image.workflow))
      problems.push(`models.${id}.image.workflow: no file at ${image.workflow}`);
  }
  const summarizer = config.compat.deepsynthSummarizer;
  if (summarizer !== 'extractive') {
    const model =
      config.models[summarizer] ?? Object.values(config.models).find((m) => m.aliases?.includes(summarizer));
    const chats = model
      ? Boolean(model.chat || (model.viaProxy && config.compat.vllmProxy))
      : Boolean(config.compat.vllmProxy);
    if (!chats)
      problems.push(
        `compat.deepsynthSummarizer: '${summarizer}' is neither "extractive" nor a model with a chat backend (models.<name>.chat)`,
      );
  }
  if (config.jobs.store === 'redis' && !config.jobs.redisUrl)
    problems.push('jobs.redisUrl: the redis job store needs a Redis URL (redis://host:6379)');
  if (problems.length) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return deepFreeze(config);
}
