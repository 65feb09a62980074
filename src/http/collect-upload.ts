import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { appError, formatBytes } from '../errors/app-error.js';

/** Bytes of one upload kept in memory; past this it is spooled to a temporary file. */
const inMemory = 256 * 1024;

/**
 * Reads an upload stream with its size limit enforced as bytes arrive. Small uploads stay
 * in memory; larger ones go to a private temporary file, so many concurrent large uploads
 * cost disk, not memory, until they are accepted. Over the limit: reading stops (the stream
 * is paused, not destroyed, so the 413 still reaches the client), the file is deleted, and
 * the error names the limit. No file outlives the call.
 */
export async function collectUpload(
  stream: Readable,
  limit: number,
  limitName = 'limits.maxDocumentBytes',
): Promise<Buffer> {
  const spooled = await spoolUpload(stream, limit, limitName);
  try {
    return await spooled.read();
  } finally {
    await spooled.dispose();
  }
}

/** Bytes of an upload kept at hand for sniffing its type (sniffKind looks no further). */
const headBytes = 1024;

/** An upload that has fully arrived: in memory when small, else in a private temporary file until disposed. */
export interface SpooledUpload {
  size: number;
  /** Its first bytes (up to 1 KB), enough to tell its type without reading it back. */
  head: Buffer;
  read(): Promise<Buffer>;
  /** Deletes the temporary file (if any); safe to call more than once. */
  dispose(): Promise<void>;
}

/**
 * Like collectUpload, but a large upload stays on disk until it is read (and until
 * `dispose`), so a route reading many files holds one at a time in memory, not all.
 */
export function spoolUpload(
  stream: Readable,
  limit: number,
  limitName = 'limits.maxDocumentBytes',
): Promise<SpooledUpload> {
  return new Promise<SpooledUpload>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let spool: { path: string; file: WriteStream } | undefined;
    let head = Buffer.alloc(0);
    let settled = false;
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      cleanup();
      stream.pause();
      const file = spool;
      if (file) file.file.destroy();
      void (file ? rm(file.path, { force: true }) : Promise.resolve()).finally(() => reject(error));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        fail(
          appError('payload_too_large', `the upload is larger than ${formatBytes(limit)} (${limitName})`, { limit }),
        );
        return;
      }
      if (head.length < headBytes) head = Buffer.concat([head, chunk.subarray(0, headBytes - head.length)]);
      if (!spool && size > inMemory) {
        const path = join(tmpdir(), `visiongate-upload-${randomUUID()}`);
        spool = { path, file: createWriteStream(path, { flags: 'wx', mode: 0o600 }) };
        spool.file.on('error', fail);
        for (const held of chunks.splice(0)) spool.file.write(held);
      }
      if (!spool) return void chunks.push(chunk);
      // Back-pressure: stop reading the socket while the disk catches up.
      if (!spool.file.write(chunk)) {
        stream.pause();
        spool.file.once('drain', () => !settled && stream.resume());
      }
    };
    const onEnd = (): void => {
      if (settled) return;
      cleanup();
      if (!spool) {
        settled = true;
        const bytes = Buffer.concat(chunks);
        resolve({ size, head, read: async () => bytes, dispose: async () => {} });
        return;
      }
      const { path, file } = spool;
      file.end(() => {
        settled = true;
        resolve({ size, head, read: () => readFile(path), dispose: () => rm(path, { force: true }) });
      });
    };
    const onError = (error: Error): void => fail(error);
    // A multipart body cut inside a file: busboy destroys the file's stream without ending it.
    const cut = (): Error =>
      appError(
        'bad_request',
        'the body ended in the middle of a file (a multipart body cut short, or its closing boundary missing)',
      );
    const onClose = (): void => {
      if (!stream.readableEnded) fail(cut());
    };
    if (stream.destroyed && !stream.readableEnded) return fail(cut());
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
