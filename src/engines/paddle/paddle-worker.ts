/** Worker-thread entry for PaddleOCR: loads the models once per thread, then reads pages. */
import type { GreyImage } from '../../documents/raster.js';
import type { OcrPageText } from '../../shared/ocr-text.js';
import { PaddlePipeline, type PaddleModelPaths } from './pipeline.js';
import { markStarted } from '../../shared/started-flag.js';
import { lowerThreadPriority } from '../../shared/thread-priority.js';

// Background work: the event loop thread gets the CPU first.
lowerThreadPriority();

let pipeline: Promise<PaddlePipeline> | undefined;

export default async function run(task: {
  paths: PaddleModelPaths;
  image: GreyImage;
  started?: Int32Array;
}): Promise<OcrPageText> {
  markStarted(task.started);
  pipeline ??= PaddlePipeline.load(task.paths);
  return (await pipeline).recognize(task.image);
}
