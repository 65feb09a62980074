/** Deploy files checked as far as this machine allows: YAML parses, and the settings that matter are there. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config/load.js';

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
  const compose = parseAllDocuments(readFileSync('deploy/compose.yaml', 'utf8'));
  assert.ok(compose.every((d) => d.errors.length === 0));
  const services = (compose[0]!.toJS() as { services: Record<string, unknown> }).services;
  assert.ok(services.visiongate && services.redis && services.worker);
  assert.deepEqual((services.worker as { command: string[] }).command.slice(-1), ['worker']);
  const docs = parseAllDocuments(readFileSync('deploy/kubernetes/visiongate.yaml', 'utf8'));
  assert.ok(docs.every((d) => d.errors.length === 0));
  const kinds = docs.map((d) => (d.toJS() as { kind: string }).kind);
  assert.deepEqual(kinds, ['ConfigMap', 'Secret', 'Deployment', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'HorizontalPodAutoscaler']);
  const worker = docs[3]!.toJS() as { spec: { template: { spec: { containers: Array<{ command: string[] }> } } } };
  assert.deepEqual(worker.spec.template.spec.containers[0]!.command.slice(-1), ['worker']);
  const workerScaling = docs[6]!.toJS() as { spec: { metrics: Array<{ external?: { metric: { name: string } } }> } };
  assert.equal(workerScaling.spec.metrics[0]!.external!.metric.name, 'visiongate_job_queue_depth');
  const deployment = docs[2]!.toJS() as { spec: { template: { spec: { securityContext: { runAsNonRoot: boolean }; containers: Array<{ livenessProbe: { httpGet: { path: string } }; readinessProbe: { httpGet: { path: string } }; resources: { limits: unknown } }> } } } };
  const pod = deployment.spec.template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.containers[0]!.livenessProbe.httpGet.path, '/health');
  assert.equal(pod.containers[0]!.readinessProbe.httpGet.path, '/ready');
  assert.ok(pod.containers[0]!.resources.limits);
  // The config the ConfigMap carries is a valid visiongate config (key file aside).
  const configMap = docs[0]!.toJS() as { data: Record<string, string> };
  const embedded = parseAllDocuments(configMap.data['visiongate.yaml']!)[0]!.toJS() as Record<string, Record<string, unknown>>;
  assert.doesNotThrow(() => loadConfig({ overrides: { ...embedded, auth: { ...embedded.auth, keyFile: undefined } } }));
});

test('every example config is valid', () => {
  for (const name of readdirSync('examples')) {
    assert.doesNotThrow(() => loadConfig({ file: `examples/${name}` }), name);
  }
});
