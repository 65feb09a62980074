/** tesseract.js's own worker script, started at a lower priority than the event loop (shared/thread-priority.ts). */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { lowerThreadPriority } from '../../shared/thread-priority.js';

lowerThreadPriority();
const require = createRequire(import.meta.url);
require(join(dirname(require.resolve('tesseract.js')), 'worker-script', 'node', 'index.js'));
