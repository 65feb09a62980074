import { request } from 'node:http';

/**
 * POSTs a large body and reads the answer even when the server answers before the body is
 * sent and closes the connection (as it should for a body over its limit): fetch reports
 * that as EPIPE, curl and this helper read the 413.
 */
export async function postReadingEarlyAnswer(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  attempts = 3,
): Promise<{ status: number; body: string }> {
  // On a loaded machine the server's close can reset the socket before the client has read the
  // 413 that was sent (a kernel race real clients meet too): like a client, try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await postOnce(url, body, headers);
    } catch (error) {
      if (attempt >= attempts || !['EPIPE', 'ECONNRESET'].includes((error as NodeJS.ErrnoException).code ?? ''))
        throw error;
    }
  }
}

function postOnce(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        signal: AbortSignal.timeout(60_000),
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // EPIPE/ECONNRESET while writing: the answer may already be on its way; never hang.
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET')
        reject(error); // AbortError after 60 s too
      else setTimeout(() => !answered && reject(error), 3000);
    });
    // Written in 1 MB pieces, stopping once the answer is in (as curl does): the answer is read
    // between pieces instead of after one 17 MB write a busy machine may not finish in time.
    let at = 0;
    const pump = (): void => {
      while (!answered && at < body.length && !req.destroyed) {
        const piece = body.subarray(at, at + 1024 * 1024);
        at += piece.length;
        if (!req.write(piece)) return void req.once('drain', pump);
      }
      if (!answered && at >= body.length) req.end();
    };
    pump();
  });
}
