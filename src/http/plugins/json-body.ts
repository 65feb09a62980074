import type { IncomingMessage } from 'node:http';
import { errorCodes, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { appError } from '../../errors/app-error.js';
import { pydantic } from '../../errors/pydantic.js';
import { invalidJson } from '../../shared/json-problem.js';

/**
 * Parses a large JSON body off the event loop (a worker thread), refusing what the default parser refuses.
 * It receives the body's own bytes and may move them to that thread.
 */
export type LargeJsonParser = (bytes: Buffer, request: FastifyRequest) => Promise<unknown>;

/** Bodies from this size are handed to the large-body parser: JSON.parse of 50 MB holds the event loop for a second. */
const largeJson = 1024 * 1024;

/**
 * A body read into one buffer, within `limit` bytes. With a Content-Length the buffer is allocated once and each
 * chunk copied in as it arrives, so a 50 MB body never costs one long copy at its end (joining the chunks of 50 MB
 * held the event loop for 0.3 s on a busy machine); without one, the chunks are joined at the end.
 */
function readBody(payload: IncomingMessage, limit: number, done: (error: Error | null, body?: Buffer) => void): void {
  const declared = payload.headers['content-length'];
  const expected = declared === undefined ? undefined : Number(declared);
  if (expected !== undefined && expected > limit) {
    payload.resume();
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    return;
  }
  const whole = expected === undefined ? undefined : Buffer.allocUnsafeSlow(expected);
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = (error: Error | null, body?: Buffer): void => {
    if (finished) return;
    finished = true;
    payload.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    if (error) payload.resume();
    done(error, body);
  };
  const onData = (chunk: Buffer): void => {
    if (received + chunk.length > limit) finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    else if (whole && received + chunk.length > whole.length)
      finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    else if (whole) chunk.copy(whole, received);
    else chunks.push(chunk);
    received += chunk.length;
  };
  const onEnd = (): void => {
    if (whole && received !== whole.length) finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    else finish(null, whole ?? Buffer.concat(chunks, received));
  };
  const onError = (error: Error): void => finish(error);
  // A client gone before the end of its body: nobody reads the answer, but the request must not hang.
  const onClose = (): void => finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
  payload.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
}

/**
 * Bodies that are not JSON, described as Python's json module would (FastAPI's 422 carries
 * its message and position); an empty JSON body is a missing body, as FastAPI reads it.
 * A large body goes to `parseLarge` as bytes (moved to the worker: no UTF-8 decoding or copy on the event loop).
 */
export function registerJsonParser(
  app: FastifyInstance,
  maxBytes: number,
  parseLarge: LargeJsonParser | undefined,
): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', (request, payload, done) =>
    readBody(payload, request.routeOptions.bodyLimit ?? maxBytes, (readError, bytes) => {
      if (readError || !bytes) return done(readError as FastifyError, undefined);
      if (bytes.length === 0) {
        done(
          appError(
            'bad_request',
            'the body is empty but Content-Type says application/json; send a JSON object',
            {},
            { validation: pydantic.missing(['body'], null) },
          ),
          undefined,
        );
        return;
      }
      if (parseLarge && bytes.length >= largeJson) {
        parseLarge(bytes, request).then(
          (value) => done(null, value),
          (error: Error) => done(error, undefined),
        );
        return;
      }
      const text = bytes.toString('utf8');
      parse(request, text, (error, value) => {
        if (!error) return done(null, value);
        // Prototype poisoning is refused as Fastify refuses it; only syntax errors get located.
        if ((error as FastifyError).code !== 'FST_ERR_CTP_INVALID_JSON_BODY') return done(error, undefined);
        done(invalidJson(text), undefined);
      });
    }),
  );
}
