import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/load.js';

test('defaults: loopback on port 8000, limits set', () => {
  const config = loadConfig({ env: {} });
  assert.equal(config.server.host, '127.0.0.1');
  assert.equal(config.server.port, 8000);
  assert.ok(config.limits.maxDocumentBytes > 0);
  assert.equal(config.fetch.allowPrivateAddresses, false);
});

test('env overrides, with types converted, and the result is frozen', () => {
  const config = loadConfig({
    env: {
      VISIONGATE_PORT: '9123',
      VISIONGATE_LIMITS__MAX_PAGES: '7',
      VISIONGATE_FETCH__ALLOW_PRIVATE_ADDRESSES: 'true',
      VISIONGATE_SERVER__CORS_ORIGINS: 'https://a.example, https://b.example',
    },
  });
  assert.equal(config.server.port, 9123);
  assert.equal(config.limits.maxPages, 7);
  assert.equal(config.fetch.allowPrivateAddresses, true);
  assert.deepEqual(config.server.corsOrigins, ['https://a.example', 'https://b.example']);
  assert.ok(Object.isFrozen(config.limits));
  assert.throws(() => {
    (config.limits as { maxPages: number }).maxPages = 1;
  }, TypeError);
});

test('a config file is read and env wins over it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vg-config-'));
  const file = join(dir, 'visiongate.yaml');
  writeFileSync(file, 'server:\n  port: 7000\nocr:\n  pdfDpi: 200\n');
  const config = loadConfig({ env: { VISIONGATE_CONFIG: file, VISIONGATE_PORT: '7001' } });
  assert.equal(config.server.port, 7001);
  assert.equal(config.ocr.pdfDpi, 200);
});

test('a bad value stops start-up with a message naming the key', () => {
  assert.throws(
    () => loadConfig({ env: { VISIONGATE_PORT: 'eighty' } }),
    (e: Error) => e instanceof ConfigError && /server\.port/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ env: { VISIONGATE_OCR__PDF_DPI: '5000' } }),
    (e: Error) => /ocr\.pdfDpi/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ env: { VISIONGATE_LIMITS__MAX_PAGEZ: '3' } }),
    (e: Error) => /limits/.test(e.message) && /maxPagez/.test(e.message),
  );
});

test("the OCRFlux seed's env names point the vLLM proxy every seed id defers to", () => {
  const config = loadConfig({ env: { VLLM_URL: 'http://gpu-server', VLLM_PORT: '30024', MAX_RETRIES: '3' } });
  const proxy = config.compat.vllmProxy!;
  assert.deepEqual(proxy.urls, ['http://gpu-server:30024/v1']);
  assert.equal(proxy.maxRetries, 3);
  assert.equal(proxy.defaultModel, 'ChatDOC/OCRFlux-3B');
  assert.deepEqual(proxy.retryStatuses, [500, 502, 503, 504]);
  assert.equal(config.models['ChatDOC/OCRFlux-3B']!.viaProxy, true);
  const named = loadConfig({ env: { VLLM_URL: 'http://10.0.0.5:8001', OCRFLUX_MODEL: 'my/ocrflux' } });
  assert.deepEqual(named.compat.vllmProxy?.urls, ['http://10.0.0.5:8001/v1']);
  assert.equal(named.compat.vllmProxy?.defaultModel, 'my/ocrflux');
  assert.equal(loadConfig({ env: {} }).compat.vllmProxy, undefined);
});

test('cross-field rules: a chat backend needs its URL or its file', () => {
  assert.throws(
    () => loadConfig({ overrides: { models: { x: { chat: { backend: 'openai' } } } } }),
    /models\.x\.chat\.urls/,
  );
  assert.throws(
    () => loadConfig({ overrides: { models: { x: { chat: { backend: 'llama-cpp', path: '/nonexistent.gguf' } } } } }),
    /models\.x\.chat\.path: no file/,
  );
});
