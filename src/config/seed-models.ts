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

type SeedModel = { name: string; params: string; viaProxy: true; ocr: { engine: 'auto'; languages?: string } };

/**
 * The default `models:` section: each seed id served by the embedded OCR (engine auto), and
 * deferring chat to the OCRFlux seed's vLLM server when one is configured (compat.vllmProxy).
 */
export function defaultModels(): Record<string, SeedModel> {
  return Object.fromEntries(
    Object.entries(seedModels).map(([id, m]) => {
      const languages = languagesOf[id as keyof typeof seedModels];
      return [
        id,
        { ...m, viaProxy: true as const, ocr: { engine: 'auto' as const, ...(languages ? { languages } : {}) } },
      ];
    }),
  );
}

const truthy = (value: string): boolean => ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());

/**
 * The seeds' own environment variables, as the OCRFlux seed documents them (README,
 * "Configuration"): API_HOST, API_PORT, DEBUG; VLLM_URL + VLLM_PORT (the vLLM server every
 * unbound model name is proxied to), OCRFLUX_MODEL (its default model), MAX_RETRIES.
 * They sit under the config file and VISIONGATE_* variables, which win when both are set.
 * Values stay strings here; the loader coerces them with the schema's types.
 */
export function seedEnvironment(env: NodeJS.ProcessEnv): Record<string, Record<string, unknown>> {
  const tree: Record<string, Record<string, unknown>> = {};
  if (env.API_HOST) tree.server = { ...tree.server, host: env.API_HOST };
  if (env.API_PORT) tree.server = { ...tree.server, port: env.API_PORT };
  if (env.DEBUG !== undefined && truthy(env.DEBUG)) tree.log = { level: 'debug' };
  if (env.VLLM_URL || env.VLLM_PORT) {
    // The seed joins them as f"{VLLM_URL}:{VLLM_PORT}"; a URL that already has a port keeps it.
    const base = (env.VLLM_URL || 'http://localhost').replace(/\/+$/, '');
    const hasPort = /:\d+$/.test(new URL(base).host);
    const url = hasPort ? base : `${base}:${env.VLLM_PORT || '30024'}`;
    tree.compat = {
      vllmProxy: {
        urls: [`${url}/v1`],
        ...(env.OCRFLUX_MODEL ? { defaultModel: env.OCRFLUX_MODEL } : {}),
        ...(env.MAX_RETRIES !== undefined ? { maxRetries: env.MAX_RETRIES } : {}),
        // The seed retried any failed request: a 500 from vLLM too.
        retryStatuses: [500, 502, 503, 504],
      },
    };
  }
  return tree;
}
