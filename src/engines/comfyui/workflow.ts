/**
 * ComfyUI workflows in API format, with placeholders: a value that is exactly "{{seed}}"
 * becomes the number, "{{prompt}}" inside a longer string is replaced as text. Operators
 * may bring their own graph (models.<name>.image.workflow) with the same placeholders.
 */
export type Workflow = Record<string, { class_type: string; inputs: Record<string, unknown>; _meta?: unknown }>;

export const placeholders = [
  'prompt',
  'negative_prompt',
  'seed',
  'steps',
  'guidance',
  'width',
  'height',
  'n',
  'checkpoint',
  'sampler',
  'init_image',
  'strength',
] as const;
export type Placeholder = (typeof placeholders)[number];

const loader = { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: '{{checkpoint}}' } };
const text = (placeholder: string) => ({ class_type: 'CLIPTextEncode', inputs: { text: placeholder, clip: ['4', 1] } });
const sampler = (latent: [string, number], denoise: number | string) => ({
  class_type: 'KSampler',
  inputs: {
    seed: '{{seed}}',
    steps: '{{steps}}',
    cfg: '{{guidance}}',
    sampler_name: '{{sampler}}',
    scheduler: 'normal',
    denoise,
    model: ['4', 0],
    positive: ['6', 0],
    negative: ['7', 0],
    latent_image: latent,
  },
});
const output = {
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'visiongate', images: ['8', 0] } },
};

/** The stock SD 1.5 text-to-image graph (checkpoint → CLIP encodes → KSampler → VAE decode → save). */
export const textToImage: Workflow = {
  '3': sampler(['5', 0], 1),
  '4': loader,
  '5': { class_type: 'EmptyLatentImage', inputs: { width: '{{width}}', height: '{{height}}', batch_size: '{{n}}' } },
  '6': text('{{prompt}}'),
  '7': text('{{negative_prompt}}'),
  ...output,
};

/** img2img: the uploaded picture encoded to a latent, repeated n times, sampled with denoise = strength. */
export const imageToImage: Workflow = {
  '3': sampler(['11', 0], '{{strength}}'),
  '4': loader,
  '5': { class_type: 'VAEEncode', inputs: { pixels: ['10', 0], vae: ['4', 2] } },
  '6': text('{{prompt}}'),
  '7': text('{{negative_prompt}}'),
  '10': { class_type: 'LoadImage', inputs: { image: '{{init_image}}' } },
  '11': { class_type: 'RepeatLatentBatch', inputs: { samples: ['5', 0], amount: '{{n}}' } },
  ...output,
};

const whole = /^\{\{(\w+)\}\}$/;
const inside = /\{\{(\w+)\}\}/g;

/** A copy of the graph with every placeholder filled; an unknown placeholder is an error (a typo in a custom graph). */
export function fillWorkflow(workflow: Workflow, values: Record<Placeholder, string | number>): Workflow {
  const lookup = (name: string): string | number => {
    if (!(placeholders as readonly string[]).includes(name))
      throw new Error(`unknown placeholder {{${name}}} in the ComfyUI workflow; known: ${placeholders.join(', ')}`);
    return values[name as Placeholder];
  };
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const exact = whole.exec(value);
      return exact ? lookup(exact[1]!) : value.replace(inside, (_m, name: string) => String(lookup(name)));
    }
    if (Array.isArray(value)) return value.map(fill);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
    return value;
  };
  return fill(workflow) as Workflow;
}

/** What is wrong with a custom workflow file's text, or undefined when it can be used. */
export function workflowProblem(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    return 'not a workflow in API format (an object of nodes)';
  if ('nodes' in parsed) return 'this is the UI format; export it with "Save (API Format)"';
  if (!text.includes('{{prompt}}')) return 'it has no {{prompt}} placeholder, so requests could not set the prompt';
  const unknown = [...text.matchAll(inside)]
    .map((m) => m[1]!)
    .filter((name) => !(placeholders as readonly string[]).includes(name));
  if (unknown.length)
    return `unknown placeholders ${unknown.map((n) => `{{${n}}}`).join(', ')}; known: ${placeholders.join(', ')}`;
  return undefined;
}
