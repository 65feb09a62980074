import { ApiError, apiKey, call, setApiKey, type Health, type ModelList, type OcrResult, type Summary } from './api.js';
import { showPages } from './ocr-view.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

type Tab = 'text' | 'markdown' | 'json';
let current: { result: OcrResult; name: string } | undefined;
let chosen: File | undefined;
let tab: Tab = 'text';

function render(): void {
  if (!current) return;
  const { result } = current;
  $('out').textContent =
    tab === 'text'
      ? result.text
      : tab === 'markdown'
        ? result.markdown
        : JSON.stringify({ ...result, pages: result.pages.map(({ preview: _preview, ...p }) => p) }, null, 2);
  for (const t of ['text', 'markdown', 'json'] as Tab[]) $(`tab-${t}`).setAttribute('aria-selected', String(t === tab));
}

function showError(message: string | undefined): void {
  const el = $('error');
  el.hidden = !message;
  el.textContent = message ?? '';
}

async function loadServerState(): Promise<void> {
  try {
    const health = await call<Health>('/health');
    const available = Object.entries(health.engines).filter(([, e]) => e.available);
    const engine = $<HTMLSelectElement>('engine');
    for (const [name] of available) engine.add(new Option(name, name));
    const languages = [...new Set(available.flatMap(([, e]) => e.languages))].sort();
    $('installed-languages').textContent = languages.join(', ');
    const models = await call<ModelList>('/api/v1/models');
    $('status').textContent =
      `${health.status}: ${available.map(([n]) => n).join(', ')} · ${models.models.length} models`;
    const has = (capability: string): boolean => models.models.some((m) => m.capabilities.includes(capability));
    const chatModels = models.models.filter((m) => m.capabilities.includes('chat'));
    if (chatModels.length) {
      const select = $<HTMLSelectElement>('chat-model');
      for (const m of chatModels) select.add(new Option(m.id, m.id));
      $('chat-form').hidden = false;
      $('chat-state').textContent =
        'Ask about the chosen image; the answer streams in. Text-only models get the image as its OCR text.';
    } else {
      $('chat-state').textContent =
        'No chat model is configured on this server. Chat needs a vision or text model bound in the config (models.<name>.chat: an OpenAI-compatible server such as vLLM, llama.cpp server or Ollama).';
    }
    $('generate-state').textContent = has('image')
      ? 'Image generation is available.'
      : 'No image backend is configured (AUTOMATIC1111, ComfyUI or an OpenAI-compatible images API).';
  } catch (error) {
    $('status').textContent = `The server did not answer: ${(error as Error).message}`;
  }
}

function problem(file: File, error: unknown): string {
  const status = error instanceof ApiError ? ` (HTTP ${error.status})` : '';
  return `Could not read ${file.name}${status}: ${(error as Error).message}`;
}

async function summarize(): Promise<void> {
  if (!chosen) return;
  const out = $('summary');
  const state = $('summary-state');
  const body = new FormData();
  body.append('file', chosen, chosen.name);
  body.append('max_length', $<HTMLInputElement>('summary-length').value || '80');
  body.append('engine', 'extractive');
  state.textContent = `Summarizing ${chosen.name}…`;
  try {
    const result = await call<Summary>('/api/v1/summarize', { method: 'POST', body });
    out.textContent = result.summary;
    out.hidden = false;
    state.textContent = `${result.sentences.selected.length} of ${result.sentences.total} sentences kept, ${result.compression_ratio}× shorter.`;
  } catch (error) {
    out.hidden = true;
    state.textContent = problem(chosen, error);
  }
}

/** Streams a /v1 chat completion about the chosen image into the answer box. */
async function ask(): Promise<void> {
  if (!chosen) return;
  const answer = $('chat-answer');
  answer.hidden = false;
  answer.textContent = '';
  const image = await new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(chosen!);
  });
  const body = {
    model: $<HTMLSelectElement>('chat-model').value,
    stream: true,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: $<HTMLTextAreaElement>('chat-prompt').value },
          { type: 'image_url', image_url: { url: image } },
        ],
      },
    ],
  };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (apiKey()) headers.authorization = `Bearer ${apiKey()}`;
  const response = await fetch('/v1/chat/completions', { method: 'POST', headers, body: JSON.stringify(body) });
  if (!response.ok || !response.body) {
    const problem = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    answer.textContent = `The model could not answer (HTTP ${response.status}): ${problem?.error?.message ?? ''}`;
    return;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const events = buffer.split('\n\n');
    buffer = events.pop() ?? '';
    for (const event of events) {
      const data = event.replace(/^data: /, '');
      if (data === '[DONE]') continue;
      const parsed = JSON.parse(data) as {
        choices?: Array<{ delta?: { content?: string } }>;
        error?: { message: string };
      };
      if (parsed.error) answer.textContent += `\n[error: ${parsed.error.message}]`;
      answer.textContent += parsed.choices?.[0]?.delta?.content ?? '';
    }
  }
}

async function runOcr(file: File): Promise<void> {
  chosen = file;
  $<HTMLButtonElement>('summarize').disabled = false;
  $<HTMLButtonElement>('chat-send').disabled = false;
  showError(undefined);
  $('result').hidden = true;
  const progress = $('progress');
  progress.hidden = false;
  progress.textContent = `Reading ${file.name}…`;
  $<HTMLButtonElement>('run').disabled = true;
  const body = new FormData();
  body.append('file', file, file.name);
  const params = new URLSearchParams({
    previews: 'true',
    engine: $<HTMLSelectElement>('engine').value,
    languages: $<HTMLInputElement>('languages').value,
  });
  const pages = $<HTMLInputElement>('pages').value.trim();
  if (pages) params.set('pages', pages);
  try {
    const result = await call<OcrResult>(`/api/v1/ocr?${params}`, { method: 'POST', body });
    current = { result, name: file.name };
    showPages($('page-views'), result);
    render();
    $('result').hidden = false;
    progress.textContent = `${result.pages.length} page${result.pages.length === 1 ? '' : 's'} read in ${(result.timings.total_ms / 1000).toFixed(1)} s`;
  } catch (error) {
    progress.hidden = true;
    showError(problem(file, error));
  } finally {
    $<HTMLButtonElement>('run').disabled = false;
  }
}

function wire(): void {
  const input = $<HTMLInputElement>('file');
  const drop = $('drop');
  $('ocr-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const file = input.files?.[0];
    if (file) void runOcr(file);
    else showError('Choose an image or a PDF first.');
  });
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) void runOcr(file);
  });
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const file = event.dataTransfer?.files[0];
    if (file) void runOcr(file);
  });
  for (const t of ['text', 'markdown', 'json'] as Tab[]) {
    $(`tab-${t}`).addEventListener('click', () => {
      tab = t;
      render();
    });
  }
  $('copy').addEventListener('click', () => void navigator.clipboard?.writeText($('out').textContent ?? ''));
  $('download').addEventListener('click', () => {
    if (!current) return;
    const extension = tab === 'json' ? 'json' : tab === 'markdown' ? 'md' : 'txt';
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([$('out').textContent ?? ''], { type: 'text/plain' }));
    link.download = `${current.name.replace(/\.[^.]+$/, '')}.${extension}`;
    link.click();
    URL.revokeObjectURL(link.href);
  });
  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void ask();
  });
  $('summary-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void summarize();
  });
  const key = $<HTMLInputElement>('api-key');
  key.value = apiKey();
  key.addEventListener('change', () => setApiKey(key.value.trim()));
}

wire();
void loadServerState();
