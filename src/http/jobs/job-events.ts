import type { FastifyReply, FastifyRequest } from 'fastify';
import { isTerminal, jobView, type JobEvent } from '../../jobs/job.js';
import type { JobStore } from '../../jobs/store.js';
import { openEventStream } from '../sse.js';

/**
 * Streams a job: `job-status` first (and on each change), `job-partial` for every page or
 * item (those kept so far, then each as it finishes), `job-progress`, and `job-end` with the
 * whole job, result included. Events that arrive while the snapshot is read are not lost:
 * the subscription starts first, and partials are sent once each by index.
 */
export async function streamJobEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  store: JobStore,
  id: string,
): Promise<FastifyReply> {
  const stream = openEventStream(request, reply);
  const sent = new Set<number>();
  const buffered: JobEvent[] = [];
  let live = false;
  let ended = false;
  const finish = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    const job = await store.get(id);
    if (job) stream.event('job-end', jobView(job));
    stream.end();
  };
  const handle = (event: JobEvent): void => {
    if (ended) return;
    if (event.type === 'partial') {
      if (sent.has(event.index)) return;
      sent.add(event.index);
      stream.event('job-partial', { index: event.index, value: event.value });
    } else if (event.type === 'progress') stream.event('job-progress', event.progress);
    else if (isTerminal(event.status)) void finish();
    else stream.event('job-status', { id, status: event.status, attempts: event.attempts });
  };
  const unsubscribe = await store.subscribe(id, (event) => (live ? handle(event) : buffered.push(event)));
  const heartbeat = setInterval(() => stream.ping(), 15_000);
  const stop = (): void => {
    clearInterval(heartbeat);
    unsubscribe();
  };
  reply.raw.once('close', stop);
  try {
    const job = await store.get(id);
    if (!job) return reply;
    stream.event('job-status', jobView(job, { result: false }));
    for (const [index, value] of await store.partials(id)) handle({ type: 'partial', index, value });
    if (isTerminal(job.status)) await finish();
    live = true;
    for (const event of buffered.splice(0)) handle(event);
  } catch (error) {
    request.log.error({ err: error }, 'job event stream failed');
    stream.end();
  }
  if (ended) stop();
  return reply;
}
