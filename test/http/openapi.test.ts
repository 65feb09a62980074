/**
 * /openapi.json: valid OpenAPI (checked by a real validator), with security schemes, the
 * operations routes, and /v1 request and response schemas that the live answers match.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv } from 'ajv';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';

interface Operation {
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
}
interface Spec {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, unknown> };
  security?: unknown[];
}

let t: TestApp;
let upstream: FakeUpstream;
let spec: Spec;

before(async () => {
  upstream = await startFakeUpstream();
  t = await buildTestApp({
    models: { remote: { chat: { backend: 'openai', urls: [upstream.url], vision: false, maxRetries: 0 } } },
  });
  spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json<Spec>();
});
after(async () => {
  await t?.close();
  await upstream?.close();
});

describe('/openapi.json', () => {
  test('is a valid OpenAPI 3 document (@seriousme/openapi-schema-validator)', async () => {
    const result = await new Validator().validate(spec as unknown as Record<string, unknown>);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 1));
    assert.match(spec.openapi, /^3\./);
  });

  test('security schemes, and the operations routes with their real content types', () => {
    assert.deepEqual(Object.keys(spec.components?.securitySchemes ?? {}).sort(), ['apiKeyHeader', 'bearerAuth']);
    assert.ok(spec.security?.length);
    assert.ok(spec.paths['/metrics']?.get?.responses['200']?.content?.['text/plain'], '/metrics');
    assert.ok(spec.paths['/ui']?.get?.responses['200']?.content?.['text/html'], '/ui');
  });

  test('every /v1 operation documents its answer and its errors; POSTs their body', () => {
    const v1 = Object.entries(spec.paths).filter(([path]) => path.startsWith('/v1/'));
    assert.ok(v1.length >= 5, v1.map(([p]) => p).join(' '));
    for (const [path, methods] of v1) {
      for (const [method, operation] of Object.entries(methods)) {
        assert.ok(operation.responses['200']?.content?.['application/json']?.schema, `${method} ${path}: 200 schema`);
        assert.ok(
          Object.keys(operation.responses).some((s) => s.startsWith('4')),
          `${method} ${path}: 4xx documented`,
        );
        if (method === 'post')
          assert.ok(operation.requestBody?.content['application/json']?.schema, `${method} ${path}: request body`);
      }
    }
  });

  test('live /v1 answers match the schema documented for their status', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const calls: Array<{
      method: 'GET' | 'POST';
      url: string;
      path: string;
      payload?: Record<string, unknown>;
      status: number;
    }> = [
      { method: 'GET', url: '/v1/models', path: '/v1/models', status: 200 },
      { method: 'GET', url: '/v1/models/remote', path: '/v1/models/{model}', status: 200 },
      { method: 'GET', url: '/v1/models/nope', path: '/v1/models/{model}', status: 404 },
      {
        method: 'POST',
        url: '/v1/chat/completions',
        path: '/v1/chat/completions',
        payload: {
          model: 'remote',
          messages: [{ role: 'user', content: 'hi' }],
          tools: [
            {
              type: 'function',
              function: { name: 'f', parameters: { type: 'object', properties: { q: { type: 'string' } } } },
            },
          ],
        },
        status: 200,
      },
      {
        method: 'POST',
        url: '/v1/chat/completions',
        path: '/v1/chat/completions',
        payload: { model: 'remote', messages: [{ role: 'user', content: 'hi' }], temperature: 9 },
        status: 400,
      },
      {
        method: 'POST',
        url: '/v1/chat/completions',
        path: '/v1/chat/completions',
        payload: { model: 'got_ocr', messages: [{ role: 'user', content: 'hi' }], logprobs: true },
        status: 400,
      },
      {
        method: 'POST',
        url: '/v1/responses',
        path: '/v1/responses',
        payload: { model: 'remote', input: 'hello' },
        status: 200,
      },
      {
        method: 'POST',
        url: '/v1/responses',
        path: '/v1/responses',
        payload: { model: 'remote', input: 'x', previous_response_id: 'r' },
        status: 400,
      },
      {
        method: 'POST',
        url: '/v1/images/generations',
        path: '/v1/images/generations',
        payload: { prompt: 'a fox' },
        status: 503,
      },
    ];
    for (const call of calls) {
      const res = await t.app.inject({
        method: call.method,
        url: call.url,
        ...(call.payload ? { payload: call.payload } : {}),
      });
      assert.equal(res.statusCode, call.status, `${call.method} ${call.url}: ${res.body}`);
      const schema =
        spec.paths[call.path]?.[call.method.toLowerCase()]?.responses[String(call.status)]?.content?.[
          'application/json'
        ]?.schema;
      assert.ok(schema, `${call.method} ${call.path} documents ${call.status}`);
      const validate = ajv.compile(schema);
      assert.ok(
        validate(res.json()),
        `${call.method} ${call.url} ${call.status}: ${ajv.errorsText(validate.errors)}\n${res.body.slice(0, 300)}`,
      );
    }
  });
});
