/**
 * What the seeds' frameworks answer at the edges, replayed: FastAPI's (Starlette's) 405 with
 * Allow, its 422 for a body that is not JSON, Pydantic v2's messages, CORS preflights from a
 * configured frontend with keys on; and the one 404 both seed families read at the root.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKey } from '../../src/auth/keys.js';
import { pythonJsonProblem } from '../../src/shared/json-problem.js';
import { buildTestApp, multipart, type TestApp } from '../helpers/app.js';

const key = createKey('frontend');
const origin = 'http://frontend.example';
let t: TestApp;
before(async () => {
  t = await buildTestApp({ server: { corsOrigins: [origin] }, auth: { enabled: true, keys: [key.entry] } });
});
after(() => t.close());

const auth = { authorization: `Bearer ${key.key}` };

describe('CORS preflights are never authenticated', () => {
  // 003: "✅ **CORS configuré**: Pour intégration frontend"; 001: `DELETE /models/{model_name}`;
  // 003: "`DELETE /cache` - Nettoyage du cache". A browser sends the preflight without the key.
  for (const [method, url] of [
    ['DELETE', '/models/qwen3_vl_2b'],
    ['DELETE', '/cache'],
    ['POST', '/ocr'],
    ['POST', '/generate'],
  ] as const) {
    test(`OPTIONS ${url} for ${method}, keys on → the CORS headers, DELETE among the methods`, async () => {
      const res = await t.app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      assert.equal(res.statusCode, 204);
      assert.equal(res.headers['access-control-allow-origin'], origin);
      assert.ok(
        String(res.headers['access-control-allow-methods']).split(/,\s*/).includes('DELETE'),
        String(res.headers['access-control-allow-methods']),
      );
      assert.match(String(res.headers['access-control-allow-headers']), /authorization/i);
    });
  }

  test('an OPTIONS that is not a preflight (no Access-Control-Request-Method) still needs a key', async () => {
    const res = await t.app.inject({ method: 'OPTIONS', url: '/ocr', headers: { origin } });
    assert.equal(res.statusCode, 401);
  });

  test('the real request after the preflight still needs its key', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/models/qwen3_vl_2b', headers: { origin } });
    assert.equal(res.statusCode, 401);
    const ok = await t.app.inject({ method: 'DELETE', url: '/models/qwen3_vl_2b', headers: { origin, ...auth } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['access-control-allow-origin'], origin);
  });
});

describe("a wrong method: 405 with Allow, in each surface's shape", () => {
  test('FastAPI seed route (001 `GET /models`, sent as POST) → {"detail":"Method Not Allowed"}', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/models', headers: auth });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'GET, HEAD');
    assert.deepEqual(res.json(), { detail: 'Method Not Allowed' });
  });

  test('001 `curl -X DELETE "http://localhost:8000/models/qwen3_vl_2b"` as GET → 405, Allow: DELETE', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/models/qwen3_vl_2b', headers: auth });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'DELETE');
    assert.deepEqual(res.json(), { detail: 'Method Not Allowed' });
  });

  test('002 `POST /ocr/process` as GET, 003 `POST /generate` as PUT → 405 with Allow: POST', async () => {
    for (const [method, url] of [
      ['GET', '/ocr/process'],
      ['PUT', '/generate'],
    ] as const) {
      const res = await t.app.inject({ method, url, headers: auth });
      assert.equal(res.statusCode, 405, url);
      assert.equal(res.headers.allow, 'POST', url);
      assert.deepEqual(res.json(), { detail: 'Method Not Allowed' });
    }
  });

  test("DeepSynth (Flask) `@app.route('/summarize/text', methods=['POST'])` as GET → 405, Allow: POST, its {\"error\"} shape", async () => {
    const res = await t.app.inject({ method: 'GET', url: '/summarize/text', headers: auth });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'POST');
    assert.equal(typeof res.json().error, 'string');
  });

  test("/v1/chat/completions as GET → 405 with OpenAI's error object", async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/chat/completions', headers: auth });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'POST');
    const body = res.json() as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(body.error.code, 'method_not_allowed');
  });

  test('/api/v1/ocr as GET → 405 problem+json', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/ocr', headers: auth });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'POST');
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    assert.equal(res.json().code, 'method_not_allowed');
  });

  test('/health as POST → 405 (public path: no key needed to learn that)', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/health' });
    assert.equal(res.statusCode, 405);
    assert.equal(res.headers.allow, 'GET, HEAD');
  });
});

describe('unknown paths', () => {
  test("at the root: one body with FastAPI's detail and DeepSynth's error", async () => {
    // 000: `@app.errorhandler(404) … return jsonify({'error': 'Endpoint not found'}), 404`; FastAPI: {"detail": "Not Found"}
    for (const url of ['/nope', '/summarize/nothing', '/batch/nothing', '/ocr/nothing/deeper']) {
      const res = await t.app.inject({ method: 'GET', url, headers: auth });
      assert.equal(res.statusCode, 404, url);
      assert.deepEqual(res.json(), { detail: 'Not Found', error: 'Endpoint not found' });
    }
  });

  test("under /v1: OpenAI's JSON error object", async () => {
    const res = await t.app.inject({ method: 'POST', url: '/v1/nothing/here', headers: auth });
    assert.equal(res.statusCode, 404);
    const body = res.json() as { error: { message: string; type: string; param: unknown; code: unknown } };
    assert.equal(body.error.type, 'not_found_error');
    assert.equal(body.error.message, 'Invalid URL (POST /v1/nothing/here)');
    assert.equal(body.error.param, null);
  });

  test('under /api: problem+json', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/nothing', headers: auth });
    assert.equal(res.statusCode, 404);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  });
});

describe("a body that is not JSON → FastAPI's 422 json_invalid", () => {
  // fastapi/routing.py: {"type": "json_invalid", "loc": ("body", e.pos), "msg": "JSON decode error", "input": {}, "ctx": {"error": e.msg}}
  test('003 `curl -X POST http://localhost:8000/generate -d \'{"prompt": "photo of sks person", …\'` cut short', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/generate',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"prompt": "photo of sks person", "user_id": }',
    });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), {
      detail: [
        {
          type: 'json_invalid',
          loc: ['body', 45],
          msg: 'JSON decode error',
          input: {},
          ctx: { error: 'Expecting value' },
        },
      ],
    });
  });

  test('the same body on /v1 stays a 400 invalid_request_error, on /api a 400 problem', async () => {
    const v1 = await t.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"model": ',
    });
    assert.equal(v1.statusCode, 400);
    assert.equal(v1.json().error.type, 'invalid_request_error');
    const native = await t.app.inject({
      method: 'POST',
      url: '/api/v1/summarize',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"text": "a" "b"}',
    });
    assert.equal(native.statusCode, 400);
    assert.match(native.json().detail, /Expecting ',' delimiter \(character 13\)/);
  });

  test("Python's messages and positions (code points, as Python counts them)", () => {
    assert.deepEqual(pythonJsonProblem(''), { message: 'Expecting value', position: 0 });
    assert.deepEqual(pythonJsonProblem('{"a": 1,}'), {
      message: 'Expecting property name enclosed in double quotes',
      position: 8,
    });
    assert.deepEqual(pythonJsonProblem('{"a" 1}'), { message: "Expecting ':' delimiter", position: 5 });
    assert.deepEqual(pythonJsonProblem('[1, 2 3]'), { message: "Expecting ',' delimiter", position: 6 });
    assert.deepEqual(pythonJsonProblem('{"a": 1} x'), { message: 'Extra data', position: 9 });
    assert.deepEqual(pythonJsonProblem('{"a": "b'), { message: 'Unterminated string starting at', position: 6 });
    assert.deepEqual(pythonJsonProblem('{"a": "\\x"}'), { message: 'Invalid \\escape', position: 7 });
    assert.deepEqual(pythonJsonProblem('{"😀": tru}'), { message: 'Expecting value', position: 6 });
    assert.deepEqual(pythonJsonProblem('['.repeat(100_000)), { message: 'Expecting value', position: 100_000 });
  });
});

describe('Pydantic v2 messages and typed input', () => {
  // 003: "| `width` | int | 512 | 256-1024 |", "| `num_inference_steps` | int | 30 | 1-150 |", "| `guidance_scale` | float | 7.5 | 1.0-20.0 |"
  const generate = (body: unknown) =>
    t.app.inject({
      method: 'POST',
      url: '/generate',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });

  test('width 2048 → less_than_equal, input echoed as the number 2048', async () => {
    const res = await generate({ prompt: 'photo of sks person', width: 2048 });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), {
      detail: [
        {
          type: 'less_than_equal',
          loc: ['body', 'width'],
          msg: 'Input should be less than or equal to 1024',
          input: 2048,
          ctx: { le: 1024 },
        },
      ],
    });
  });

  test('num_inference_steps 0 → greater_than_equal; 30.5 → int_from_float; "many" → int_parsing', async () => {
    let res = await generate({ prompt: 'p', num_inference_steps: 0 });
    assert.deepEqual(res.json().detail[0], {
      type: 'greater_than_equal',
      loc: ['body', 'num_inference_steps'],
      msg: 'Input should be greater than or equal to 1',
      input: 0,
      ctx: { ge: 1 },
    });
    res = await generate({ prompt: 'p', num_inference_steps: 30.5 });
    assert.deepEqual(res.json().detail[0], {
      type: 'int_from_float',
      loc: ['body', 'num_inference_steps'],
      msg: 'Input should be a valid integer, got a number with a fractional part',
      input: 30.5,
    });
    res = await generate({ prompt: 'p', num_inference_steps: 'many' });
    assert.deepEqual(res.json().detail[0], {
      type: 'int_parsing',
      loc: ['body', 'num_inference_steps'],
      msg: 'Input should be a valid integer, unable to parse string as an integer',
      input: 'many',
    });
  });

  test('guidance_scale 25 → "less than or equal to 20.0" (declared as a float)', async () => {
    const res = await generate({ prompt: 'p', guidance_scale: 25 });
    assert.equal(res.json().detail[0].msg, 'Input should be less than or equal to 20.0');
    assert.equal(res.json().detail[0].input, 25);
  });

  test('no prompt → missing, input is the body; prompt 5 → string_type', async () => {
    let res = await generate({ user_id: 'default' });
    assert.deepEqual(res.json().detail[0], {
      type: 'missing',
      loc: ['body', 'prompt'],
      msg: 'Field required',
      input: { user_id: 'default' },
    });
    res = await generate({ prompt: 5 });
    assert.deepEqual(res.json().detail[0], {
      type: 'string_type',
      loc: ['body', 'prompt'],
      msg: 'Input should be a valid string',
      input: 5,
    });
  });

  test('a JSON list as the body → model_attributes_type', async () => {
    const res = await generate(['photo']);
    assert.deepEqual(res.json().detail[0], {
      type: 'model_attributes_type',
      loc: ['body'],
      msg: 'Input should be a valid dictionary or object to extract fields from',
      input: ['photo'],
    });
  });

  test('the native surface keeps its own readable message for the same mistake', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/images',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ prompt: 'p', width: 2048 }),
    });
    assert.equal(res.statusCode, 422);
    assert.match(res.json().detail, /width: must be a whole number from 256 to 1024/);
  });

  test("001 /chat `temperature | float | … (0.0-1.0)` as 1.5 → Pydantic's message, the form string echoed", async () => {
    // 001: data={'prompt': …, 'model': 'qwen3_vl_2b', 'temperature': 0.7, 'max_tokens': 512}
    const form = multipart(
      { name: 'image.jpg', bytes: Buffer.from('x') },
      { prompt: 'Что изображено на картинке?', temperature: '1.5' },
    );
    const res = await t.app.inject({
      method: 'POST',
      url: '/chat',
      headers: { ...auth, ...form.headers },
      payload: form.payload,
    });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), {
      detail: [
        {
          type: 'less_than_equal',
          loc: ['body', 'temperature'],
          msg: 'Input should be less than or equal to 1.0',
          input: '1.5',
          ctx: { le: 1 },
        },
      ],
    });
  });

  test('001 /ocr without its file → "Field required" at body.file', async () => {
    const form = multipart(null, { model: 'qwen3_vl_2b' });
    const res = await t.app.inject({
      method: 'POST',
      url: '/ocr',
      headers: { ...auth, ...form.headers },
      payload: form.payload,
    });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(res.json(), {
      detail: [{ type: 'missing', loc: ['body', 'file'], msg: 'Field required', input: null }],
    });
  });
});
