/**
 * The clients people point at an OpenAI-compatible server, unchanged: the official `openai` SDK
 * (Responses API), the Vercel AI SDK (its default `openai(model)` provider speaks the Responses
 * API; `.chat()` and `@ai-sdk/openai-compatible` speak chat completions) and LangChain's
 * ChatOpenAI, against an upstream written from OpenAI's wire format that records what it got.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, jsonSchema, Output, stepCountIs, streamText, tool, type JSONSchema7 } from 'ai';
import OpenAI from 'openai';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { renderPage } from '../fixtures/pages.js';

let upstream: FakeUpstream;
let t: TestApp;
let base: string;

before(async () => {
  upstream = await startFakeUpstream();
  t = await buildTestApp({
    models: {
      'gpt-remote': {
        chat: { backend: 'openai', urls: [upstream.url], vision: true, maxRetries: 0, model: 'upstream-model' },
      },
    },
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/v1`;
});
after(async () => {
  await t?.close();
  await upstream?.close();
});

const lastReceived = (): Record<string, unknown> => upstream.received.at(-1)!;
const cityParameters: JSONSchema7 = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
};
const chatTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather of a city', parameters: cityParameters },
};
const timeout = () => AbortSignal.timeout(20_000);

describe('the Vercel AI SDK', () => {
  test('the default openai(model) provider (Responses API): a two-step tool loop', async () => {
    const openai = createOpenAI({ baseURL: base, apiKey: 'unused' });
    const calls: string[] = [];
    const start = upstream.received.length;
    const result = await generateText({
      model: openai('gpt-remote'),
      system: 'Use tools.',
      prompt: 'Paris',
      tools: {
        get_weather: tool({
          description: 'Weather of a city',
          inputSchema: jsonSchema<{ city: string }>(cityParameters),
          execute: async ({ city }) => (calls.push(city), { temperature: 21 }),
        }),
      },
      stopWhen: stepCountIs(3),
      abortSignal: timeout(),
    });
    assert.deepEqual(calls, ['Paris'], 'the SDK ran the tool with the arguments the model chose');
    assert.equal(result.text, 'echo tool: {"temperature":21}');
    assert.equal(result.steps.length, 2);
    const [first, second] = upstream.received.slice(start) as Array<{ messages: unknown[]; tools: unknown }>;
    assert.deepEqual(first!.messages, [
      { role: 'system', content: 'Use tools.' },
      { role: 'user', content: [{ type: 'text', text: 'Paris' }] },
    ]);
    assert.equal(
      (first!.tools as Array<{ function: { name: string; parameters: unknown } }>)[0]!.function.name,
      'get_weather',
    );
    assert.deepEqual(
      (first!.tools as Array<{ function: { parameters: unknown } }>)[0]!.function.parameters,
      cityParameters,
    );
    assert.deepEqual(second!.messages.slice(2), [
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_fake0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_fake0', content: '{"temperature":21}' },
    ]);
    assert.ok(result.totalUsage.inputTokens! > 0 && result.totalUsage.outputTokens! > 0);
  });

  test('the default provider, streamed: function_call items in the typed events drive the same tool loop', async () => {
    const openai = createOpenAI({ baseURL: base, apiKey: 'unused' });
    const calls: string[] = [];
    const stream = streamText({
      model: openai('gpt-remote'),
      prompt: 'Oslo',
      tools: {
        get_weather: tool({
          inputSchema: jsonSchema<{ city: string }>(cityParameters),
          execute: async ({ city }) => (calls.push(city), 'rain'),
        }),
      },
      stopWhen: stepCountIs(3),
      abortSignal: timeout(),
    });
    let text = '';
    for await (const delta of stream.textStream) text += delta;
    assert.deepEqual(calls, ['Oslo']);
    assert.equal(text, 'echo tool: rain');
    assert.deepEqual((lastReceived().messages as unknown[]).at(-1), {
      role: 'tool',
      tool_call_id: 'call_fake0',
      content: 'rain',
    });
  });

  test('Responses API: streamed text with usage, an image, instructions and JSON schema output', async () => {
    const openai = createOpenAI({ baseURL: base, apiKey: 'unused' });
    const page = await renderPage({ lines: ['image'] });
    const stream = streamText({
      model: openai('gpt-remote'),
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'one two three' },
            { type: 'image', image: page, mediaType: 'image/png' },
          ],
        },
      ],
      abortSignal: timeout(),
    });
    let text = '';
    for await (const delta of stream.textStream) text += delta;
    assert.equal(text, 'echo: one two three [images: 1]');
    const usage = await stream.usage;
    assert.ok(usage.inputTokens! > 0 && usage.outputTokens === 6, JSON.stringify(usage));
    const parts = (lastReceived().messages as Array<{ content: Array<{ type: string }> }>)[0]!.content;
    assert.deepEqual(
      parts.map((p) => p.type),
      ['text', 'image_url'],
    );

    const { output } = await generateText({
      model: openai('gpt-remote'),
      prompt: 'Lyon',
      output: Output.object({
        schema: jsonSchema<{ name: string; population: number }>({
          type: 'object',
          properties: { name: { type: 'string' }, population: { type: 'integer' } },
          required: ['name', 'population'],
          additionalProperties: false,
        }),
      }),
      abortSignal: timeout(),
    });
    assert.deepEqual(output, { name: 'Lyon', population: 1 });
    const format = lastReceived().response_format as { type: string; json_schema: { schema: unknown } };
    assert.equal(format.type, 'json_schema');
    assert.deepEqual((format.json_schema.schema as { required: string[] }).required, ['name', 'population']);
  });

  test('openai.chat(model) (chat completions): seed, penalties and logprobs forwarded, logprobs back', async () => {
    const openai = createOpenAI({ baseURL: base, apiKey: 'unused' });
    const result = await generateText({
      model: openai.chat('gpt-remote'),
      prompt: 'a b',
      seed: 11,
      frequencyPenalty: 0.3,
      presencePenalty: 0.2,
      providerOptions: { openai: { logprobs: 2, user: 'u-9' } },
      abortSignal: timeout(),
    });
    const sent = lastReceived();
    assert.deepEqual(
      [sent.seed, sent.frequency_penalty, sent.presence_penalty, sent.logprobs, sent.top_logprobs, sent.user],
      [11, 0.3, 0.2, true, 2, 'u-9'],
    );
    assert.equal(result.text, 'echo: a b');
    const logprobs = result.providerMetadata?.openai?.logprobs as Array<{ token: string; top_logprobs: unknown[] }>;
    assert.deepEqual(
      logprobs.map((l) => l.token),
      ['echo:', ' a', ' b'],
    );
    assert.equal(logprobs[0]!.top_logprobs.length, 2);
  });

  test('@ai-sdk/openai-compatible: streaming with include_usage, and a tool call', async () => {
    const provider = createOpenAICompatible({
      name: 'visiongate',
      baseURL: base,
      apiKey: 'unused',
      includeUsage: true,
    });
    const stream = streamText({ model: provider('gpt-remote'), prompt: 'x y', abortSignal: timeout() });
    let text = '';
    for await (const delta of stream.textStream) text += delta;
    assert.equal(text, 'echo: x y');
    assert.deepEqual(lastReceived().stream_options, { include_usage: true });
    assert.equal((await stream.usage).outputTokens, 3);
    const called = await generateText({
      model: provider('gpt-remote'),
      prompt: 'Bern',
      tools: { get_weather: tool({ inputSchema: jsonSchema<{ city: string }>(cityParameters) }) },
      toolChoice: 'required',
      abortSignal: timeout(),
    });
    assert.equal(lastReceived().tool_choice, 'required');
    assert.deepEqual(
      called.toolCalls.map((c) => [c.toolName, c.input]),
      [['get_weather', { city: 'Bern' }]],
    );
    assert.equal(called.finishReason, 'tool-calls');
  });
});

describe("LangChain's ChatOpenAI", () => {
  test('bindTools: the tool goes upstream, the call comes back parsed; n = 2 and streaming usage', async () => {
    const llm = new ChatOpenAI({
      model: 'gpt-remote',
      apiKey: 'unused',
      configuration: { baseURL: base },
      maxRetries: 0,
      timeout: 20_000,
    });
    const message = await llm.bindTools([chatTool]).invoke('Madrid');
    assert.deepEqual(lastReceived().tools, [chatTool]);
    assert.deepEqual(
      message.tool_calls?.map((c) => [c.name, c.args, c.id]),
      [['get_weather', { city: 'Madrid' }, 'call_fake0']],
    );
    const two = await new ChatOpenAI({
      model: 'gpt-remote',
      apiKey: 'unused',
      configuration: { baseURL: base },
      maxRetries: 0,
      n: 2,
    }).generate([['hello']]);
    assert.equal(lastReceived().n, 2);
    assert.deepEqual(
      two.generations[0]!.map((g) => g.text),
      ['echo: hello', 'echo: hello [choice 2]'],
    );
    let streamed = '';
    let usage: { input_tokens: number; output_tokens: number } | undefined;
    for await (const chunk of await llm.stream('p q r')) {
      streamed += typeof chunk.content === 'string' ? chunk.content : '';
      usage = chunk.usage_metadata ?? usage;
    }
    assert.equal(streamed, 'echo: p q r');
    assert.equal(usage?.output_tokens, 4);
  });
});

describe('the openai SDK on the Responses API', () => {
  test('typed events in order, deltas that add up, and the final response', async () => {
    const client = new OpenAI({ baseURL: base, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
    const stream = await client.responses.create({
      model: 'gpt-remote',
      instructions: 'Be brief.',
      input: 'alpha beta',
      stream: true,
      max_output_tokens: 50,
    });
    const types: string[] = [];
    let text = '';
    let final: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') final = event.response;
    }
    assert.deepEqual(
      [...new Set(types)],
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    assert.equal(text, 'echo: alpha beta');
    assert.equal(final?.output_text, 'echo: alpha beta');
    assert.equal(final?.status, 'completed');
    assert.deepEqual(lastReceived().messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'alpha beta' },
    ]);
    assert.equal(lastReceived().max_tokens, 50);
    const whole = await client.responses.create({
      model: 'gpt-remote',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'gamma' }] }],
    });
    assert.equal(whole.output_text, 'echo: gamma');
    assert.equal(whole.object, 'response');
    assert.ok(whole.usage!.input_tokens > 0);
  });

  test('what cannot be mapped is refused by name: previous_response_id, built-in tools', async () => {
    const client = new OpenAI({ baseURL: base, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
    const stored = await client.responses
      .create({ model: 'gpt-remote', input: 'x', previous_response_id: 'resp_1' })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(stored instanceof OpenAI.BadRequestError && stored.param === 'previous_response_id', String(stored));
    const builtIn = await client.responses
      .create({ model: 'gpt-remote', input: 'x', tools: [{ type: 'web_search' }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(builtIn instanceof OpenAI.BadRequestError && builtIn.param === 'tools[0].type', String(builtIn));
  });
});
