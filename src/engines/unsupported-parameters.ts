/**
 * OpenAI chat parameters an engine cannot honour are refused by name, never dropped: each engine
 * lists what it honours, and the first other parameter that asks for something is a 400 naming it.
 */
import { appError } from '../errors/app-error.js';
import { isUnset, type ChatRequest } from '../shared/chat.js';

/** The sampling parameters every engine maps from the typed fields of the request. */
export const samplingParameters = ['max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'user'];

/**
 * The first parameter of the request this engine cannot honour, refused with a 400 naming it
 * (OpenAI's error object carries it as `param`). `honoured` lists what the engine handles;
 * a parameter set to nothing (null, false, []) asks for nothing and passes.
 */
export function refuseUnsupported(
  request: ChatRequest,
  engine: string,
  honoured: readonly string[],
  rules: Record<string, (value: unknown) => boolean> = {},
): void {
  for (const [name, value] of Object.entries(request.parameters ?? {})) {
    const allowed = rules[name];
    if (allowed ? allowed(value) : honoured.includes(name) || isUnset(value)) continue;
    throw unsupportedParameter(name, engine, value);
  }
  for (const [i, message] of request.messages.entries()) {
    if (message.toolCalls?.length || message.role === 'tool') {
      if (honoured.includes('tools')) continue;
      throw unsupportedParameter(`messages[${i}]`, engine, message.role === 'tool' ? 'a tool message' : 'tool_calls');
    }
  }
}

export function unsupportedParameter(name: string, engine: string, value: unknown): Error {
  const shown = typeof value === 'string' ? value : JSON.stringify(value)?.slice(0, 80);
  return appError(
    'unsupported_parameter',
    `${name} is not supported by this model's backend (${engine}); received ${shown}. Remove it, or use a model served by an OpenAI-compatible backend`,
    { field: name },
  );
}
