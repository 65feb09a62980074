import { appError } from '../../errors/app-error.js';

/**
 * The Responses API (`POST /v1/responses`) as a translator in front of chat completions, the
 * way Ollama's /v1 sits in front of its own handler: a Responses body becomes a chat body
 * (then parsed, limited and run exactly like /v1/chat/completions), and the chat answer
 * becomes a Response. Every field is either mapped or refused by name: none is dropped.
 */
export interface ResponsesRequest {
  /** The equivalent chat-completions body. */
  chat: Record<string, unknown>;
  stream: boolean;
  /** Request fields a Response object repeats back (instructions, tools, text, ...). */
  echo: Record<string, unknown>;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const bad = (param: string, message: string): Error => appError('invalid_parameter', message, { field: param });
const refuse = (param: string, why: string): Error =>
  appError('unsupported_parameter', `${param} is not supported by /v1/responses here: ${why}`, { field: param });

/** Fields copied to the chat body under the same name. */
const sameName = [
  'model',
  'temperature',
  'top_p',
  'parallel_tool_calls',
  'user',
  'metadata',
  'service_tier',
  'top_logprobs',
  'seed',
  'safety_identifier',
  'prompt_cache_key',
];
/** Fields that ask nothing of the model, or nothing here (no state is kept: store is accepted and has no effect beyond the answer). */
const accepted = [
  'stream',
  'instructions',
  'input',
  'tools',
  'tool_choice',
  'text',
  'max_output_tokens',
  'store',
  'truncation',
  'include',
  'reasoning',
  'stream_options',
  'background',
];

function content(value: unknown, param: string): unknown {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw bad(param, `${param} must be a string or a list of content parts`);
  return value.map((part: unknown, j) => {
    const at = `${param}[${j}]`;
    if (!isObject(part)) throw bad(at, `${at} must be a content part object`);
    if (
      (part.type === 'input_text' || part.type === 'output_text' || part.type === 'text') &&
      typeof part.text === 'string'
    )
      return { type: 'text', text: part.text };
    if (part.type === 'input_image') {
      if (typeof part.image_url !== 'string')
        throw refuse(
          `${at}.file_id`,
          'images are taken as image_url (a data: or http(s) URL); no files are stored here',
        );
      return {
        type: 'image_url',
        image_url: { url: part.image_url, ...(typeof part.detail === 'string' ? { detail: part.detail } : {}) },
      };
    }
    if (part.type === 'refusal') return { type: 'text', text: String(part.refusal ?? '') };
    throw refuse(
      `${at}.type`,
      `content parts of type ${JSON.stringify(part.type)} are not supported (input_text, input_image, output_text are)`,
    );
  });
}

/** Input items → chat messages: messages by role, function calls and their outputs as tool calls and tool messages. */
function messages(input: unknown, instructions: unknown): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  if (typeof instructions === 'string' && instructions) out.push({ role: 'system', content: instructions });
  if (typeof input === 'string') return [...out, { role: 'user', content: input }];
  if (!Array.isArray(input) || input.length === 0)
    throw bad('input', 'input must be a string or a non-empty list of input items');
  for (const [i, item] of input.entries()) {
    const at = `input[${i}]`;
    if (!isObject(item)) throw bad(at, `${at} must be an object`);
    const type = item.type ?? 'message';
    if (type === 'message') {
      if (!['user', 'system', 'developer', 'assistant'].includes(String(item.role)))
        throw bad(`${at}.role`, `${at}.role must be user, system, developer or assistant`);
      out.push({ role: item.role, content: content(item.content, `${at}.content`) });
    } else if (type === 'function_call') {
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string' || typeof item.arguments !== 'string')
        throw bad(at, `${at} (a function_call) needs call_id, name and arguments`);
      const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
      // Calls of one turn go into one assistant message, as chat completions expects them.
      const previous = out[out.length - 1];
      if (previous?.role === 'assistant' && Array.isArray(previous.tool_calls)) previous.tool_calls.push(call);
      else out.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (type === 'function_call_output') {
      if (typeof item.call_id !== 'string') throw bad(`${at}.call_id`, `${at} (a function_call_output) needs call_id`);
      out.push({
        role: 'tool',
        tool_call_id: item.call_id,
        content: typeof item.output === 'string' ? item.output : JSON.stringify(item.output ?? ''),
      });
    } else if (type === 'reasoning') {
    } else if (type === 'item_reference') {
      throw refuse(`${at}`, 'no responses are stored here, so items cannot be referenced; send the items themselves');
    } else throw refuse(`${at}.type`, `input items of type ${JSON.stringify(type)} are not supported`);
  }
  return out;
}

function tools(value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw bad('tools', 'tools must be a list');
  return value.map((tool: unknown, i) => {
    if (!isObject(tool) || tool.type !== 'function')
      throw refuse(
        `tools[${i}].type`,
        `only function tools are supported (received ${JSON.stringify(isObject(tool) ? tool.type : tool)})`,
      );
    const { type: _type, name, description, parameters, strict } = tool;
    return {
      type: 'function',
      function: {
        name,
        ...(description !== undefined ? { description } : {}),
        ...(parameters !== undefined ? { parameters } : {}),
        ...(strict !== undefined && strict !== null ? { strict } : {}),
      },
    };
  });
}

function toolChoice(value: unknown): unknown {
  if (isObject(value)) {
    if (value.type === 'function' && typeof value.name === 'string')
      return { type: 'function', function: { name: value.name } };
    throw refuse('tool_choice', `only "auto", "none", "required" or {"type": "function", "name": ...} are supported`);
  }
  return value;
}

function responseFormat(text: unknown): unknown {
  if (text === undefined || text === null) return undefined;
  if (!isObject(text)) throw bad('text', 'text must be an object such as {"format": {"type": "json_schema", ...}}');
  const extra = Object.keys(text).filter((k) => k !== 'format' && k !== 'verbosity');
  if (extra.length) throw refuse(`text.${extra[0]}`, 'only text.format is supported');
  if (text.verbosity !== undefined && text.verbosity !== null)
    throw refuse('text.verbosity', 'chat backends take no verbosity');
  const format = text.format;
  if (format === undefined || format === null) return undefined;
  if (!isObject(format)) throw bad('text.format', 'text.format must be an object');
  if (format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type === 'json_schema') {
    const { type: _type, ...schema } = format;
    return { type: 'json_schema', json_schema: schema };
  }
  throw bad('text.format.type', 'text.format.type must be text, json_object or json_schema');
}

/** A Responses body → the equivalent chat-completions body, or a 400 naming what cannot be mapped. */
export function responsesToChat(raw: unknown): ResponsesRequest {
  if (!isObject(raw)) throw bad('body', 'the body must be a JSON object');
  for (const [name, value] of Object.entries(raw)) {
    if (sameName.includes(name) || accepted.includes(name) || value === undefined || value === null) continue;
    if (name === 'previous_response_id' || name === 'conversation' || name === 'prompt')
      throw refuse(name, 'no responses or conversations are stored here; send the whole conversation as input');
    throw refuse(name, 'this field has no equivalent for a chat model');
  }
  if (raw.background === true)
    throw refuse(
      'background',
      'no responses are stored here; use POST /api/v1/jobs for work that outlives the request',
    );
  if (isObject(raw.reasoning) && Object.values(raw.reasoning).some((v) => v !== undefined && v !== null)) {
    const { effort, ...rest } = raw.reasoning;
    if (Object.values(rest).some((v) => v !== undefined && v !== null))
      throw refuse(
        `reasoning.${Object.keys(rest)[0]}`,
        'only reasoning.effort maps onto a chat model (as reasoning_effort)',
      );
  }
  if (Array.isArray(raw.include) && raw.include.some((v) => v !== 'message.output_text.logprobs'))
    throw refuse('include', 'only "message.output_text.logprobs" can be included');
  if (raw.truncation !== undefined && raw.truncation !== null && raw.truncation !== 'disabled')
    throw refuse('truncation', 'the conversation is never truncated here ("disabled" only)');
  const chat: Record<string, unknown> = { messages: messages(raw.input, raw.instructions) };
  for (const name of sameName) if (raw[name] !== undefined && raw[name] !== null) chat[name] = raw[name];
  if (raw.max_output_tokens !== undefined && raw.max_output_tokens !== null) chat.max_tokens = raw.max_output_tokens;
  const mapped = {
    tools: tools(raw.tools),
    tool_choice: raw.tool_choice === undefined || raw.tool_choice === null ? undefined : toolChoice(raw.tool_choice),
    response_format: responseFormat(raw.text),
  };
  for (const [name, value] of Object.entries(mapped)) if (value !== undefined) chat[name] = value;
  if (isObject(raw.reasoning) && typeof raw.reasoning.effort === 'string') chat.reasoning_effort = raw.reasoning.effort;
  if (chat.top_logprobs !== undefined || (Array.isArray(raw.include) && raw.include.length)) chat.logprobs = true;
  if (raw.stream !== undefined && raw.stream !== null && typeof raw.stream !== 'boolean')
    throw bad('stream', 'stream must be a boolean');
  const stream = raw.stream === true;
  if (stream) chat.stream_options = { include_usage: true };
  const echo = {
    instructions: raw.instructions ?? null,
    max_output_tokens: raw.max_output_tokens ?? null,
    parallel_tool_calls: raw.parallel_tool_calls ?? true,
    temperature: raw.temperature ?? null,
    top_p: raw.top_p ?? null,
    tool_choice: raw.tool_choice ?? 'auto',
    tools: raw.tools ?? [],
    text: isObject(raw.text) && raw.text.format ? { format: raw.text.format } : { format: { type: 'text' } },
    metadata: raw.metadata ?? {},
    store: raw.store ?? false,
    user: raw.user ?? null,
    reasoning: { effort: isObject(raw.reasoning) ? (raw.reasoning.effort ?? null) : null, summary: null },
    truncation: 'disabled',
    previous_response_id: null,
  };
  return { chat, stream, echo };
}
