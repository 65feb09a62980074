import type { ChatDependencies } from '../../core/chat.js';
import type { ImageGenerator } from '../../images/generator.js';
import type { JobHandler, JobType } from '../job.js';
import { runBatchJob } from './batch.js';
import { runChatJob } from './chat.js';
import { runImageJob } from './image.js';
import { runOcrJob } from './ocr.js';
import { runSummarizeJob } from './summarize.js';

/** The handler of each job type, over the same core the synchronous routes use. */
export interface JobServices extends ChatDependencies {
  images: ImageGenerator;
}

export function jobHandler(services: JobServices): JobHandler {
  const byType = (type: JobType): JobHandler => {
    switch (type) {
      case 'ocr':
        return (context) => runOcrJob(services, context);
      case 'summarize':
        return (context) => runSummarizeJob(services, context);
      case 'chat':
        return (context) => runChatJob(services, context);
      case 'image':
        return (context) => runImageJob(services, context);
      case 'batch':
        return (context) => runBatchJob(context, byType);
    }
  };
  return (context) => byType(context.job.type)(context);
}
