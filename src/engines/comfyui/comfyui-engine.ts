import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'undici';
import { loadUndici } from '../../shared/lazy-modules.js';
import { abortError, appError, isAppError } from '../../errors/app-error.js';
import { onAbort } from '../../shared/abort.js';
import type { GeneratedImages, GenerateOptions, ImageEngine, ImageRequest } from '../image-spec.js';
import { UpstreamClient, type UpstreamOptions } from '../remote/upstream-client.js';
import { fillWorkflow, imageToImage, textToImage, type Workflow } from './workflow.js';

export interface ComfyUiOptions extends UpstreamOptions {
  /** ckpt_name of the checkpoint loader. */
  checkpoint?: string;
  sampler?: string;
  /** A workflow file in API format with placeholders; the built-in graphs when absent. */
  workflow?: string;
  /** How often /history is read when the websocket is not there. */
  progressIntervalMs: number;
}

interface ComfyMessage {
  type: string;
  data?: {
    prompt_id?: string;
    node?: string | null;
    value?: number;
    max?: number;
    exception_message?: string;
    exception_type?: string;
    node_type?: string;
    node_id?: string;
  };
}

interface ImageRef {
  filename: string;
  subfolder?: string;
  type?: string;
}

interface HistoryEntry {
  outputs?: Record<string, { images?: ImageRef[] }>;
  status?: { status_str?: string; completed?: boolean; messages?: Array<[string, ComfyMessage['data']]> };
}

/**
 * A binary preview frame: a big-endian event type (1: PREVIEW_IMAGE), an image type (1 JPEG, 2 PNG),
 * then the encoded image. Anything else (another event type, no image) is undefined.
 */
export function previewImage(frame: ArrayBuffer): Buffer | undefined {
  if (frame.byteLength <= 8) return undefined;
  const view = new DataView(frame);
  if (view.getUint32(0) !== 1 || ![1, 2].includes(view.getUint32(4))) return undefined;
  return Buffer.from(frame, 8);
}

/** The JSON messages of one websocket session, read in order; binary preview frames go to `onPreview`. */
class Session {
  private readonly messages: ComfyMessage[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  /** The last sampling progress seen, which a preview frame that follows it shows. */
  private progress: { step?: number; steps?: number } = {};

  private constructor(
    private readonly socket: WebSocket,
    onPreview: GenerateOptions['onPreview'],
  ) {
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('message', (event) => {
      if (typeof event.data !== 'string') {
        const image = onPreview && event.data instanceof ArrayBuffer ? previewImage(event.data) : undefined;
        if (image) onPreview?.({ image, ...this.progress });
        return;
      }
      try {
        const message = JSON.parse(event.data) as ComfyMessage;
        if (message.type === 'progress' && message.data?.value !== undefined && message.data.max)
          this.progress = { step: message.data.value, steps: message.data.max };
        this.messages.push(message);
      } catch {
        return;
      }
      this.wake?.();
    });
    socket.addEventListener('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  /** Opens `/ws?clientId=…`; undefined when the server does not take it in time (progress is then unknown). */
  static async open(
    url: string,
    clientId: string,
    timeoutMs: number,
    onPreview?: GenerateOptions['onPreview'],
  ): Promise<Session | undefined> {
    const socket = new (await loadUndici()).WebSocket(
      `${url.replace(/^http/, 'ws')}/ws?clientId=${encodeURIComponent(clientId)}`,
    );
    const opened = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      socket.addEventListener('open', () => (clearTimeout(timer), resolve(true)), { once: true });
      socket.addEventListener('error', () => (clearTimeout(timer), resolve(false)), { once: true });
    });
    if (opened) return new Session(socket, onPreview);
    socket.close();
    return undefined;
  }

  /** The next message; undefined once the socket closed. */
  async next(signal: AbortSignal): Promise<ComfyMessage | undefined> {
    while (this.messages.length === 0) {
      if (this.closed) return undefined;
      if (signal.aborted) throw abortError(signal);
      await new Promise<void>((resolve) => {
        const stop = onAbort(signal, resolve);
        this.wake = () => {
          stop();
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.messages.shift();
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * ComfyUI: the workflow template filled in and queued by `POST /prompt`, progress from its
 * websocket (`progress` messages of our prompt), the images from `/history/{id}` and `/view`;
 * cancelling interrupts it (`POST /interrupt`) and takes it off the queue (`POST /queue`).
 */
export class ComfyUiEngine implements ImageEngine {
  readonly backend: string;
  private readonly client: UpstreamClient;
  private readonly custom: Workflow | undefined;
  private used = false;

  constructor(private readonly options: ComfyUiOptions) {
    this.client = new UpstreamClient(options);
    this.backend = `comfyui: ${this.client.urls.join(', ')}`;
    this.custom = options.workflow ? (JSON.parse(readFileSync(options.workflow, 'utf8')) as Workflow) : undefined;
  }

  async generate(request: ImageRequest, options: GenerateOptions = {}): Promise<GeneratedImages> {
    const url = this.client.order()[0]!;
    const clientId = randomUUID();
    const signal = options.signal
      ? AbortSignal.any([options.signal, AbortSignal.timeout(this.options.timeoutMs)])
      : AbortSignal.timeout(this.options.timeoutMs);
    // Listen before queueing, so no message of our prompt is missed.
    const session = await Session.open(url, clientId, this.options.connectTimeoutMs, options.onPreview);
    let promptId: string | undefined;
    const stopInterrupt = onAbort(signal, () => {
      if (promptId) void this.cancel(url, promptId);
    });
    try {
      this.used = true;
      const initImage = request.init ? await this.upload(url, request.init.image, signal) : '';
      const graph = this.graph(request, initImage);
      const queued = await this.client
        .json<{ prompt_id?: string }>(url, 'POST', '/prompt', {
          body: JSON.stringify({ prompt: graph, client_id: clientId }),
          signal,
        })
        .catch((error: unknown) => {
          // ComfyUI refuses a graph it cannot run with a 400: our graph and its config, not the client's request, so a 502.
          throw isAppError(error) && error.status === 422
            ? appError(
                'upstream_error',
                error.message.replace('the model server refused the request', 'comfyui refused the workflow'),
                error.facts,
              )
            : error;
        });
      if (!queued.prompt_id)
        throw appError('upstream_error', `comfyui did not queue the workflow: ${JSON.stringify(queued).slice(0, 500)}`);
      promptId = queued.prompt_id;
      if (signal.aborted) void this.cancel(url, promptId);
      const finished = session ? await this.follow(session, promptId, signal, options.onStep) : false;
      const entry = await this.history(url, promptId, signal, !finished);
      const refs = Object.values(entry.outputs ?? {})
        .flatMap((o) => o.images ?? [])
        .filter((image) => (image.type ?? 'output') === 'output');
      if (refs.length === 0)
        throw appError(
          'upstream_error',
          'comfyui finished the workflow without saving an image (does it end in a SaveImage node?)',
        );
      const images = await Promise.all(refs.map((ref) => this.view(url, ref, signal)));
      return { images, seeds: images.map(() => request.seed) };
    } catch (error) {
      if (signal.aborted)
        throw options.signal?.aborted
          ? abortError(options.signal)
          : appError(
              'upstream_timeout',
              `comfyui did not finish within ${this.options.timeoutMs / 1000} s (timeoutMs)`,
            );
      throw error;
    } finally {
      stopInterrupt();
      session?.close();
    }
  }

  private graph(request: ImageRequest, initImage: string): Workflow {
    const template = this.custom ?? (request.init ? imageToImage : textToImage);
    return fillWorkflow(template, {
      prompt: request.prompt,
      negative_prompt: request.negativePrompt,
      seed: request.seed,
      steps: request.steps,
      guidance: request.guidance,
      width: request.width,
      height: request.height,
      n: request.n,
      checkpoint: this.options.checkpoint ?? '',
      sampler: this.options.sampler ?? 'euler',
      init_image: initImage,
      strength: request.init?.strength ?? 1,
    });
  }

  /** Follows our prompt's messages; true when it finished, false when the socket closed first. */
  private async follow(
    session: Session,
    promptId: string,
    signal: AbortSignal,
    onStep: GenerateOptions['onStep'],
  ): Promise<boolean> {
    for (let message = await session.next(signal); message; message = await session.next(signal)) {
      const data = message.data;
      if (data?.prompt_id !== promptId) continue;
      if (message.type === 'progress' && onStep && data.value !== undefined && data.max)
        onStep({ step: data.value, steps: data.max });
      if (message.type === 'execution_error') throw failure(data);
      if (message.type === 'execution_interrupted')
        throw appError('upstream_error', 'comfyui interrupted the workflow (someone pressed cancel on the server?)');
      if (message.type === 'execution_success' || (message.type === 'executing' && data.node === null)) return true;
    }
    return false;
  }

  /** The prompt's history entry; when the socket was not there, read until it is complete. */
  private async history(url: string, promptId: string, signal: AbortSignal, wait: boolean): Promise<HistoryEntry> {
    for (;;) {
      const history = await this.client.json<Record<string, HistoryEntry>>(
        url,
        'GET',
        `/history/${encodeURIComponent(promptId)}`,
        { signal },
      );
      const entry = history[promptId];
      if (entry?.status?.status_str === 'error')
        throw failure(entry.status.messages?.find(([type]) => type === 'execution_error')?.[1]);
      if (entry && (entry.status?.completed ?? true)) return entry;
      if (!wait && entry) return entry;
      await sleep(this.options.progressIntervalMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) throw abortError(signal);
    }
  }

  private async view(url: string, ref: ImageRef, signal: AbortSignal): Promise<Buffer> {
    const query = new URLSearchParams({
      filename: ref.filename,
      subfolder: ref.subfolder ?? '',
      type: ref.type ?? 'output',
    });
    const response = await this.client.send(url, 'GET', `/view?${query}`, { signal });
    return Buffer.from(await response.body.arrayBuffer());
  }

  /** img2img: the picture goes to ComfyUI's input folder first; LoadImage names it. */
  private async upload(url: string, image: Buffer, signal: AbortSignal): Promise<string> {
    const form = new (await loadUndici()).FormData();
    form.append('image', new Blob([new Uint8Array(image)], { type: 'image/png' }), `visiongate-${randomUUID()}.png`);
    form.append('overwrite', 'true');
    const saved = await this.client.json<{ name: string; subfolder?: string }>(url, 'POST', '/upload/image', {
      body: form,
      signal,
    });
    return saved.subfolder ? `${saved.subfolder}/${saved.name}` : saved.name;
  }

  /** Stops our prompt whether it runs (interrupt) or still waits (taken off the queue). */
  private async cancel(url: string, promptId: string): Promise<void> {
    const body = (value: unknown) => ({ body: JSON.stringify(value) });
    await Promise.all([
      this.client.send(url, 'POST', '/interrupt', body({ prompt_id: promptId })),
      this.client.send(url, 'POST', '/queue', body({ delete: [promptId] })),
    ]).catch(() => undefined);
  }

  async reset(): Promise<string[]> {
    const free = this.used
      ? { path: '/free', body: JSON.stringify({ unload_models: true, free_memory: true }), said: 'models unloaded' }
      : undefined;
    this.used = false;
    return this.client.release(free);
  }
}

/** ComfyUI's execution_error, as a 502 naming the node and the exception. */
function failure(data: ComfyMessage['data']): Error {
  const where = data?.node_type ? ` in node ${data.node_id ?? '?'} (${data.node_type})` : '';
  return appError(
    'upstream_error',
    `comfyui failed${where}: ${data?.exception_type ? `${data.exception_type}: ` : ''}${data?.exception_message ?? 'unknown error'}`.trim(),
  );
}
