import type { Generation, ImageGenerator } from '../../images/generator.js';
import type { ImageParams } from '../../images/params.js';
import type { JobContext } from '../job.js';

/** A generation as a job: the backend's sampling steps become progress (at most 4 updates a second, and the last). */
export async function runImageJob(services: { images: ImageGenerator }, context: JobContext): Promise<Generation> {
  const params = context.job.params as unknown as ImageParams;
  let reported = 0;
  return services.images.generate(params, context.input, {
    signal: context.signal,
    requestId: context.job.id,
    onStep: ({ step, steps }) => {
      if (step < steps && performance.now() - reported < 250) return;
      reported = performance.now();
      void context.progress({ unit: 'steps', done: step, total: steps });
    },
  });
}
