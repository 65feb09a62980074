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
  // The OCRFlux seed's default model and the model its README's request names.
  'ChatDOC/OCRFlux-3B': { name: 'OCRFlux-3B', params: '3B' },
  'Qwen/Qwen2.5-VL-32B-Instruct': { name: 'Qwen2.5-VL 32B', params: '32B' },
} as const;

/** OCRFlux documents are often Chinese forms: its names read Chinese and English. */
const languagesOf: Partial<Record<keyof typeof seedModels, string>> = {
  'ChatDOC/OCRFlux-3B': 'chi_sim+eng',
  'Qwen/Qwen2.5-VL-32B-Instruct': 'chi_sim+eng',
};

type SeedModel = { name: string; params: string; ocr: { engine: 'auto'; languages?: string }; chat?: Record<string, unknown> };

/** The default `models:` section: each seed id served by the embedded OCR (engine auto). */
export function defaultModels(): Record<string, SeedModel> {
  return Object.fromEntries(
    Object.entries(seedModels).map(([id, m]) => {
      const languages = languagesOf[id as keyof typeof seedModels];
      return [id, { ...m, ocr: { engine: 'auto' as const, ...(languages ? { languages } : {}) } }];
    }),
  );
}

/**
 * The OCRFlux seed's environment variables, honoured as shortcuts: VLLM_URL and VLLM_PORT
 * bind OCRFLUX_MODEL (default ChatDOC/OCRFlux-3B) to that vLLM server; MAX_RETRIES sets its retries.
 */
export function ocrFluxFromEnv(env: NodeJS.ProcessEnv): Record<string, SeedModel> {
  if (!env.VLLM_URL && !env.VLLM_PORT) return {};
  const base = (env.VLLM_URL ?? 'http://localhost').replace(/\/+$/, '');
  const url = /:\d+$/.test(base) ? base : `${base}:${env.VLLM_PORT ?? '30024'}`;
  const model = env.OCRFLUX_MODEL ?? 'ChatDOC/OCRFlux-3B';
  const retries = env.MAX_RETRIES !== undefined ? Number(env.MAX_RETRIES) : 1;
  return { [model]: { name: model, params: '', ocr: { engine: 'auto' }, chat: { backend: 'openai', urls: [`${url}/v1`], model, vision: true, maxRetries: retries } } };
}
