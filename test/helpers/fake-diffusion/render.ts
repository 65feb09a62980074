/**
 * The fake diffusion servers' "model": a deterministic picture from the generation
 * parameters (same parameters → same bytes, like a real backend with a fixed seed), cheap
 * to make and to compress. Each image of a batch differs by its index.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

export interface RenderParams {
  prompt: string;
  negative?: string;
  seed: number;
  steps: number;
  guidance: number;
  width: number;
  height: number;
  index?: number;
  /** img2img: a digest of the init image, so it changes the result. */
  init?: string;
}

export async function renderImage(p: RenderParams): Promise<Buffer> {
  const digest = createHash('sha256')
    .update(JSON.stringify({ ...p, index: p.index ?? 0 }))
    .digest();
  const raw = Buffer.alloc(p.width * p.height * 3);
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < p.width; x++) {
      const at = (y * p.width + x) * 3;
      for (let c = 0; c < 3; c++)
        raw[at + c] = (digest[c]! + ((x * (digest[3 + c]! % 5)) >> 2) + ((y * (digest[6 + c]! % 5)) >> 2)) & 0xff;
    }
  }
  return sharp(raw, { raw: { width: p.width, height: p.height, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A multipart body read with the platform's FormData parser. */
export async function readForm(req: IncomingMessage): Promise<FormData> {
  return new Response(new Uint8Array(await readBody(req)), {
    headers: { 'content-type': req.headers['content-type'] ?? '' },
  }).formData();
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A small preview of a run at `step` (as live previews are: a low-resolution JPEG or PNG of the latents). */
export async function renderPreview(step: number, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const image = sharp({
    create: { width: 64, height: 64, channels: 3, background: { r: (step * 37) % 256, g: 128, b: 64 } },
  });
  return format === 'jpeg' ? image.jpeg().toBuffer() : image.png().toBuffer();
}

/** What every fake backend records and can be told to do. */
export interface FakeBackendState {
  /** Generation requests as received (JSON bodies; forms as objects). */
  received: Array<Record<string, unknown>>;
  /** Fails the next generation with this HTTP status and message. */
  fail?: { status: number; message: string };
  /** Fails the next generation after this many steps (as a crash in the sampler would). */
  failMidRun?: { afterSteps: number; message: string };
  /** Milliseconds per sampling step. */
  stepDelayMs: number;
  interrupts: number;
  /** Clients that went away before their answer was written. */
  aborted: number;
  frees: number;
}

export function newState(): FakeBackendState {
  return { received: [], stepDelayMs: 0, interrupts: 0, aborted: 0, frees: 0 };
}

/** Listens on 127.0.0.1 and returns its root URL and a closer. */
export async function listen(server: Server): Promise<{ root: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    root: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export { createServer };
