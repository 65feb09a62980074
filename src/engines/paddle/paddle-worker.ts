/** Worker-thread entry for PaddleOCR: loads the models once per thread, then reads pages. */
import type { GreyImage } from '../../documents/raster.js';
import type { OcrPageText } from '../../shared/ocr-text.js';
import { PaddlePipeline, type PaddleModelPaths } from './pipeline.js';
import { lowerThreadPriority } from '../../shared/thread-priority.js';

// Background work: the event loop thread gets the CPU first.
lowerThreadPriority();

let pipeline: Promise<PaddlePipeline> | undefined;

export default async function run(task: {
  paths: PaddleModelPaths;
  image: GreyImage;
  started?: Int32Array;
}): Promise<OcrPageText> {
  if (task.started) {
    Atomics.store(task.started, 0, 1);
    Atomics.notify(task.started, 0);
  }
  pipeline ??= PaddlePipeline.load(task.paths);
  return (await pipeline).recognize(task.image);
}
