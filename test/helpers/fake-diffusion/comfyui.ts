/**
 * A ComfyUI server written from its documented wire format: POST /prompt (a graph in API
 * format → prompt_id, or 400 `{error: {type, message, details}, node_errors}`), the /ws
 * websocket (status, execution_start, executing, progress {value, max}, executed,
 * execution_success, execution_error, execution_interrupted; a binary JPEG preview frame after each
 * progress), GET /history/{id}, GET /view,
 * POST /upload/image, POST /interrupt, POST /queue {delete}, POST /free. Prompts run one
 * at a time, like ComfyUI's single executor.
 */
import { createHash, randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  createServer,
  json,
  listen,
  newState,
  readBody,
  readForm,
  renderImage,
  renderPreview,
  sleep,
  type FakeBackendState,
} from './render.js';

type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

export interface FakeComfyUi extends FakeBackendState {
  root: string;
  /** Uploaded input images by name. */
  uploads: Map<string, Buffer>;
  /** Prompt ids taken off the queue by POST /queue {delete}. */
  deleted: string[];
  /** Refuse websocket connections (progress must then come from /history). */
  noWebsocket: boolean;
  close(): Promise<void>;
}

/** The node an input points at (["4", 0] → node "4"). */
const linked = (graph: Graph, ref: unknown) => graph[String((ref as [string, number])[0])]!;

export async function startFakeComfyUi(): Promise<FakeComfyUi> {
  const state = { ...newState(), uploads: new Map<string, Buffer>(), deleted: [] as string[], noWebsocket: false };
  const sockets = new Map<string, WebSocket>();
  const outputs = new Map<string, Buffer>();
  const history: Record<string, unknown> = {};
  let running: { id: string; interrupted: boolean } | undefined;
  let chain = Promise.resolve();

  const send = (clientId: string, type: string, data: Record<string, unknown>): void => {
    const socket = sockets.get(clientId);
    if (socket?.readyState === 1) socket.send(JSON.stringify({ type, data }));
  };

  const execute = async (id: string, clientId: string, graph: Graph): Promise<void> => {
    if (state.deleted.includes(id)) return;
    running = { id, interrupted: false };
    const run = running;
    send(clientId, 'execution_start', { prompt_id: id, timestamp: Date.now() });
    const [samplerId, sampler] = Object.entries(graph).find(([, node]) => node.class_type === 'KSampler')!;
    const inputs = sampler.inputs;
    const steps = Number(inputs.steps);
    const text = (ref: unknown): string => String(linked(graph, ref).inputs.text);
    let latent = linked(graph, inputs.latent_image);
    let n = 1;
    if (latent.class_type === 'RepeatLatentBatch') {
      n = Number(latent.inputs.amount);
      latent = linked(graph, latent.inputs.samples);
    }
    let size = { width: 0, height: 0 };
    let init: string | undefined;
    if (latent.class_type === 'EmptyLatentImage') {
      size = { width: Number(latent.inputs.width), height: Number(latent.inputs.height) };
      n = Number(latent.inputs.batch_size);
    } else {
      const name = String(linked(graph, latent.inputs.pixels).inputs.image);
      const bytes = state.uploads.get(name)!;
      const { default: sharp } = await import('sharp');
      const meta = await sharp(bytes).metadata();
      size = { width: meta.width!, height: meta.height! };
      init = `${createHash('sha256').update(bytes).digest('hex')}@${inputs.denoise}`;
    }
    send(clientId, 'executing', { node: samplerId, display_node: samplerId, prompt_id: id });
    const failMidRun = state.failMidRun;
    state.failMidRun = undefined;
    for (let step = 1; step <= steps; step++) {
      if (state.stepDelayMs) await sleep(state.stepDelayMs);
      if (run.interrupted) {
        send(clientId, 'execution_interrupted', {
          prompt_id: id,
          node_id: samplerId,
          node_type: 'KSampler',
          executed: [],
        });
        history[id] = {
          prompt: [0, id, graph, {}, []],
          outputs: {},
          status: { status_str: 'error', completed: false, messages: [['execution_interrupted', { prompt_id: id }]] },
        };
        running = undefined;
        return;
      }
      if (failMidRun && step === failMidRun.afterSteps) {
        const error = {
          prompt_id: id,
          node_id: samplerId,
          node_type: 'KSampler',
          executed: [],
          exception_message: failMidRun.message,
          exception_type: 'torch.OutOfMemoryError',
          traceback: [],
        };
        send(clientId, 'execution_error', error);
        history[id] = {
          prompt: [0, id, graph, {}, []],
          outputs: {},
          status: { status_str: 'error', completed: false, messages: [['execution_error', error]] },
        };
        running = undefined;
        return;
      }
      send(clientId, 'progress', { value: step, max: steps, prompt_id: id, node: samplerId });
      // The sampler's preview of this step (--preview-method on): a binary frame to the prompt's client,
      // event type 1 (PREVIEW_IMAGE) and image type 1 (JPEG), big-endian, then the JPEG.
      const socket = sockets.get(clientId);
      if (socket?.readyState === 1)
        socket.send(Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]), await renderPreview(step)]));
    }
    const images = [];
    for (let index = 0; index < n; index++) {
      const png = await renderImage({
        prompt: text(inputs.positive),
        negative: text(inputs.negative),
        seed: Number(inputs.seed),
        steps,
        guidance: Number(inputs.cfg),
        ...size,
        index,
        ...(init ? { init } : {}),
      });
      const filename = `visiongate_${String(outputs.size + 1).padStart(5, '0')}_.png`;
      outputs.set(filename, png);
      images.push({ filename, subfolder: '', type: 'output' });
    }
    const saveId = Object.entries(graph).find(([, node]) => node.class_type === 'SaveImage')![0];
    // A preview (type temp) beside the output, as a PreviewImage node would add.
    const temp = [{ filename: 'ComfyUI_temp_00001_.png', subfolder: '', type: 'temp' }];
    history[id] = {
      prompt: [0, id, graph, {}, [saveId]],
      outputs: { [saveId]: { images }, '99': { images: temp } },
      status: { status_str: 'success', completed: true, messages: [['execution_success', { prompt_id: id }]] },
    };
    send(clientId, 'executed', { node: saveId, display_node: saveId, output: { images }, prompt_id: id });
    send(clientId, 'executing', { node: null, prompt_id: id });
    send(clientId, 'execution_success', { prompt_id: id, timestamp: Date.now() });
    running = undefined;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (req.method === 'POST' && url.pathname === '/prompt') {
        const body = JSON.parse((await readBody(req)).toString('utf8')) as { prompt: Graph; client_id: string };
        state.received.push(body as unknown as Record<string, unknown>);
        const fail = state.fail;
        state.fail = undefined;
        if (fail)
          return json(res, fail.status, {
            error: {
              type: 'prompt_outputs_failed_validation',
              message: 'Prompt outputs failed validation',
              details: fail.message,
              extra_info: {},
            },
            node_errors: {
              '4': {
                errors: [
                  { type: 'value_not_in_list', message: 'Value not in list', details: fail.message, extra_info: {} },
                ],
                dependent_outputs: ['9'],
                class_type: 'CheckpointLoaderSimple',
              },
            },
          });
        const id = randomUUID();
        json(res, 200, { prompt_id: id, number: state.received.length, node_errors: {} });
        chain = chain.then(() => execute(id, body.client_id, body.prompt)).catch(() => undefined);
        return;
      }
      if (req.method === 'GET' && url.pathname.startsWith('/history/')) {
        const id = decodeURIComponent(url.pathname.slice('/history/'.length));
        return json(res, 200, history[id] ? { [id]: history[id] } : {});
      }
      if (req.method === 'GET' && url.pathname === '/view') {
        const png =
          url.searchParams.get('type') === 'output' ? outputs.get(url.searchParams.get('filename') ?? '') : undefined;
        if (!png) return json(res, 404, {});
        return res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      }
      if (req.method === 'POST' && url.pathname === '/upload/image') {
        const form = await readForm(req);
        const file = form.get('image') as File;
        state.uploads.set(file.name, Buffer.from(await file.arrayBuffer()));
        return json(res, 200, { name: file.name, subfolder: '', type: 'input' });
      }
      if (req.method === 'POST' && url.pathname === '/interrupt') {
        const body = (await readBody(req)).toString('utf8');
        const id = body ? (JSON.parse(body) as { prompt_id?: string }).prompt_id : undefined;
        state.interrupts++;
        if (running && (!id || id === running.id)) running.interrupted = true;
        return res.writeHead(200).end();
      }
      if (req.method === 'POST' && url.pathname === '/queue') {
        const body = JSON.parse((await readBody(req)).toString('utf8')) as { delete?: string[] };
        state.deleted.push(...(body.delete ?? []));
        return res.writeHead(200).end();
      }
      if (req.method === 'POST' && url.pathname === '/free') {
        await readBody(req);
        state.frees++;
        return res.writeHead(200).end();
      }
      json(res, 404, {});
    })().catch(() => res.destroy());
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (url.pathname !== '/ws' || state.noWebsocket) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const clientId = url.searchParams.get('clientId') ?? randomUUID().replaceAll('-', '');
      sockets.set(clientId, ws);
      ws.on('close', () => sockets.delete(clientId));
      ws.send(
        JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: clientId } }),
      );
      // A binary preview frame, which clients must skip.
      ws.send(Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]));
    });
  });
  const { root, close } = await listen(server);
  return Object.assign(state, {
    root,
    close: async () => {
      for (const socket of wss.clients) socket.terminate();
      wss.close();
      await close();
    },
  });
}
