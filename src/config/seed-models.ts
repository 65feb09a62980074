/**
 * The model ids the seed services' clients send, bound by default to the embedded OCR
 * engines so that every one of them answers with no GPU. Config may rebind any of them.
 */
export const seedModels = {
  got_ocr: { name: 'GOT-OCR 2.0', params: '580M' },
  qwen_vl_2b: { name: 'Qwen2-VL 2B', params: '2B' },
  qwen_vl_7b: { name: 'Qwen2-VL 7B', params: '7B' },
  qwen3_vl_2b: { name: 'Qwen3-VL 2B', params: '2B' },
  qwen3_vl_4b: { name: 'Qwen3-VL 4B', params: '4B' },
  qwen3_vl_8b: { name: 'Qwen3-VL 8B', params: '8B' },
  dots_ocr: { name: 'dots.ocr', params: '1.7B' },
  'internvl3-8b': { name: 'InternVL3-8B', params: '8B' },
  'deepseek-ocr': { name: 'DeepSeek-OCR', params: '3B' },
} as const;

/** The default `models:` section: each seed id served by the embedded OCR (engine auto). */
export function defaultModels(): Record<string, { name: string; params: string; ocr: { engine: 'auto' } }> {
  return Object.fromEntries(Object.entries(seedModels).map(([id, m]) => [id, { ...m, ocr: { engine: 'auto' as const } }]));
}
