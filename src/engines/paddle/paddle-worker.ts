/** Worker-thread entry for PaddleOCR: loads the models once per thread, then reads pages. */
import type { GreyImage } from '../../documents/raster.js';
import type { OcrPageText } from '../../shared/ocr-text.js';
import { PaddlePipeline, type PaddleModelPaths } from './pipeline.js';

let pipeline: Promise<PaddlePipeline> | undefined;

export default async function run(task: { paths: PaddleModelPaths; image: GreyImage }): Promise<OcrPageText> {
  pipeline ??= PaddlePipeline.load(task.paths);
  return (await pipeline).recognize(task.image);
}
