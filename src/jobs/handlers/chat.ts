import { openChat } from '../../core/chat.js';
import { parseChatBody } from '../../http/openai/chat-request.js';
import { documentFetchPolicy } from '../../http/fetch-policy.js';
import type { Services } from '../../services.js';
import type { JobContext } from '../job.js';

/** A chat completion as a job (the body of POST /v1/chat/completions); reports tokens as they come. */
export async function runChatJob(services: Services, context: JobContext): Promise<unknown> {
  const { body } = context.job.params as { body: unknown };
  const parsed = await parseChatBody(body, documentFetchPolicy(services.config), context.signal, services.config.limits.maxPromptChars);
  const chat = await openChat(services, parsed.model, parsed.request, context.signal);
  try {
    let content = '';
    let tokens = 0;
    for await (const piece of chat.stream(context.signal)) {
      if (piece.type === 'delta') {
        content += piece.content;
        if (++tokens % 16 === 0) await context.progress({ unit: 'tokens', done: tokens });
      } else {
        return { model: parsed.model, content, finish_reason: piece.finishReason, usage: piece.usage };
      }
    }
    return { model: parsed.model, content, finish_reason: 'stop', usage: null };
  } finally {
    chat.release();
  }
}
