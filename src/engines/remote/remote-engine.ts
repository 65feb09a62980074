import type { ChatChunk, ChatRequest, ChatResult } from '../../shared/chat.js';
import type { ChatEngine } from '../chat-spec.js';
import { UpstreamClient, type UpstreamOptions } from './upstream-client.js';

/** What every remote chat backend shares: its upstream client, its label, whether it sees images. */
export abstract class RemoteChatEngine implements ChatEngine {
  readonly vision: boolean;
  readonly backend: string;
  protected readonly client: UpstreamClient;

  protected constructor(options: UpstreamOptions & { vision: boolean }, kind: string) {
    this.vision = options.vision;
    this.client = new UpstreamClient(options);
    this.backend = `${kind}: ${this.client.urls.join(', ')}`;
  }

  abstract stream(request: ChatRequest, signal?: AbortSignal): AsyncIterable<ChatChunk>;
  abstract complete(request: ChatRequest, signal?: AbortSignal): Promise<ChatResult>;
}
