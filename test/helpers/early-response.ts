import { request } from 'node:http';

/**
 * POSTs a large body and reads the answer even when the server answers before the body is
 * sent and closes the connection (as it should for a body over its limit): fetch reports
 * that as EPIPE, curl and this helper read the 413.
 */
export function postReadingEarlyAnswer(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (error: NodeJS.ErrnoException) => {
      // EPIPE/ECONNRESET while writing: the answer may already be on its way; never hang.
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
      else setTimeout(() => !answered && reject(error), 3000);
    });
    req.end(body);
  });
}
