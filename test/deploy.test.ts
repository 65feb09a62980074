/** Deploy files checked as far as this machine allows: YAML parses, and the settings that matter are there. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { serveRefusal } from '../src/main.js';
import { startServer } from './helpers/server-process.js';

test('Dockerfile: multi-stage, non-root, healthcheck, language data baked in', () => {
  const file = readFileSync('deploy/Dockerfile', 'utf8');
  assert.equal(file.match(/^FROM /gm)?.length, 2);
  assert.match(file, /^USER node$/m);
  assert.match(file, /^HEALTHCHECK /m);
  assert.match(file, /tesseract-ocr-eng/);
  assert.match(file, /npm ci/);
  assert.match(file, /npm run build/);
});

test('compose and Kubernetes manifests are valid YAML with probes, resources, non-root and an HPA', () => {
  const compose = parseAllDocuments(readFileSync('compose.yaml', 'utf8'));
  assert.ok(compose.every((d) => d.errors.length === 0));
  const services = (compose[0]!.toJS() as { services: Record<string, unknown> }).services;
  assert.ok(services.visiongate && services.redis && services.worker);
  assert.deepEqual((services.worker as { command: string[] }).command.slice(-1), ['worker']);
  const docs = parseAllDocuments(readFileSync('deploy/kubernetes/visiongate.yaml', 'utf8'));
  assert.ok(docs.every((d) => d.errors.length === 0));
  const kinds = docs.map((d) => (d.toJS() as { kind: string }).kind);
  assert.deepEqual(kinds, [
    'ConfigMap',
    'Secret',
    'Deployment',
    'Deployment',
    'Service',
    'HorizontalPodAutoscaler',
    'HorizontalPodAutoscaler',
  ]);
  const worker = docs[3]!.toJS() as { spec: { template: { spec: { containers: Array<{ command: string[] }> } } } };
  assert.deepEqual(worker.spec.template.spec.containers[0]!.command.slice(-1), ['worker']);
  const workerScaling = docs[6]!.toJS() as { spec: { metrics: Array<{ external?: { metric: { name: string } } }> } };
  assert.equal(workerScaling.spec.metrics[0]!.external!.metric.name, 'visiongate_job_queue_depth');
  const deployment = docs[2]!.toJS() as {
    spec: {
      template: {
        spec: {
          securityContext: { runAsNonRoot: boolean };
          containers: Array<{
            livenessProbe: { httpGet: { path: string } };
            readinessProbe: { httpGet: { path: string } };
            resources: { limits: unknown };
          }>;
        };
      };
    };
  };
  const pod = deployment.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.containers[0]!.livenessProbe.httpGet.path, '/health');
  assert.equal(pod.containers[0]!.readinessProbe.httpGet.path, '/ready');
  assert.ok(pod.containers[0]!.resources.limits);
  // The config the ConfigMap carries is a valid visiongate config (key file aside).
  const configMap = docs[0]!.toJS() as { data: Record<string, string> };
  const embedded = parseAllDocuments(configMap.data['visiongate.yaml']!)[0]!.toJS() as Record<
    string,
    Record<string, unknown>
  >;
  assert.doesNotThrow(() => loadConfig({ overrides: { ...embedded, auth: { ...embedded.auth, keyFile: undefined } } }));
});

test('every example config is valid', () => {
  for (const name of readdirSync('examples')) {
    assert.doesNotThrow(() => loadConfig({ file: `examples/${name}` }), name);
  }
});

/** The runtime stage's ENV lines (after the last FROM), as the container gets them. */
function dockerfileEnv(): Record<string, string> {
  const file = readFileSync('deploy/Dockerfile', 'utf8').replace(/\\\n/g, ' ');
  const runtime = file.slice(file.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of runtime.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const [, key, value] of line.slice(4).matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[key!] = value!;
  }
  return env;
}

/**
 * The API node's environment in compose.yaml, with `${VAR:?message}` taken from `dotenv` (as compose reads
 * .env) and container paths mapped to the repo files the service mounts there.
 */
function composeEnv(dotenv: Record<string, string>): Record<string, string> | { refused: string } {
  const service = (
    parseYaml(readFileSync('compose.yaml', 'utf8')) as {
      services: Record<string, { environment: Record<string, string>; volumes: string[] }>;
    }
  ).services.visiongate!;
  const mounts = new Map(
    service.volumes
      .map((v) => v.split(':'))
      .filter((p) => p[0]!.startsWith('./'))
      .map(([from, to]) => [to!, from!]),
  );
  const env: Record<string, string> = {};
  for (const [key, raw] of Object.entries(service.environment)) {
    const required = /^\$\{(\w+):\?(.*)\}$/.exec(raw);
    if (required) {
      if (!dotenv[required[1]!]) return { refused: required[2]! };
      env[key] = dotenv[required[1]!]!;
    } else env[key] = mounts.get(raw) ?? raw;
  }
  return env;
}

const dotenvExample = Object.fromEntries(
  readFileSync('.env.example', 'utf8')
    .split('\n')
    .filter((l) => /^\w+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);
const aKey = `${'k'.repeat(8)}0123456789abcdef`;

test('container: without a key, the image exits at once with one line naming VISIONGATE_API_KEY', async () => {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...dockerfileEnv() };
  assert.equal(env.VISIONGATE_HOST, '0.0.0.0');
  // It exits before binding anything, so the container's 0.0.0.0 is safe to use here.
  const child = spawn(process.execPath, ['dist/src/main.js'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 2);
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
  assert.match(stderr, /set VISIONGATE_API_KEY/);
});

test('container: with VISIONGATE_API_KEY the same environment is served, and the key is required', async () => {
  const env = { ...dockerfileEnv(), VISIONGATE_API_KEY: aKey };
  assert.equal(serveRefusal(loadConfig({ env })), undefined);
  // Started on loopback (tests never listen elsewhere); the host is the only difference.
  const server = await startServer({ ...env, VISIONGATE_HOST: '127.0.0.1', VISIONGATE_PORT: '0' });
  try {
    assert.equal((await fetch(`${server.url}/api/v1/models`, { signal: AbortSignal.timeout(10_000) })).status, 401);
    const ok = await fetch(`${server.url}/api/v1/models`, {
      headers: { authorization: `Bearer ${aKey}` },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(ok.status, 200);
    assert.ok(!server.output.includes(aKey), 'the key never reaches the log');
  } finally {
    await server.stop();
  }
});

test('compose: .env.example as shipped is refused with the message compose prints; with a key the API node config is served', () => {
  assert.equal(dotenvExample.VISIONGATE_API_KEY, '', '.env.example ships no key of its own');
  const refused = composeEnv(dotenvExample);
  assert.ok('refused' in refused && /VISIONGATE_API_KEY.*\.env/.test(refused.refused));
  const env = composeEnv({ ...dotenvExample, VISIONGATE_API_KEY: aKey });
  assert.ok(!('refused' in env));
  const config = loadConfig({ env: { ...dockerfileEnv(), ...env } });
  assert.equal(config.server.host, '0.0.0.0');
  assert.equal(config.server.port, 8000);
  assert.equal(config.auth.enabled, true);
  assert.equal(serveRefusal(config), undefined);
  assert.equal(config.jobs.store, 'redis');
});

test('VISIONGATE_API_KEY: short keys are refused at start-up; several keys by comma', () => {
  assert.throws(() => loadConfig({ env: { VISIONGATE_API_KEY: 'short' } }), /16 or more/);
  const config = loadConfig({ env: { VISIONGATE_API_KEYS: `${aKey},${aKey}x` } });
  assert.equal(config.auth.keys.length, 2);
  assert.ok(!JSON.stringify(config).includes(aKey), 'only hashes are kept');
});
