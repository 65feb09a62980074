import type { OcrResult, Page, Word } from './api.js';

const confidenceClass = (c: number): string => (c >= 0.9 ? 'good' : c >= 0.7 ? 'fair' : 'poor');

/** One word's box, placed in percent of the page so it follows the picture's size. */
function box(word: Word, page: Page): HTMLElement {
  const [x0, y0, x1, y1] = word.bbox;
  const el = document.createElement('div');
  el.className = `box ${confidenceClass(word.confidence)}`;
  el.style.left = `${(x0 / page.width) * 100}%`;
  el.style.top = `${(y0 / page.height) * 100}%`;
  el.style.width = `${((x1 - x0) / page.width) * 100}%`;
  el.style.height = `${((y1 - y0) / page.height) * 100}%`;
  el.title = `${word.text} (confidence ${Math.round(word.confidence * 100)}%)`;
  el.dataset.text = word.text;
  return el;
}

function pageFigure(page: Page): HTMLElement {
  const figure = document.createElement('figure');
  figure.className = 'page';
  figure.dataset.page = String(page.page);
  const caption = document.createElement('figcaption');
  const how = page.source === 'text-layer' ? 'text layer (no OCR)' : `OCR with ${page.engine}`;
  caption.textContent = `Page ${page.page}: ${how}, ${page.words.length} words, confidence ${Math.round(page.confidence * 100)}%`;
  figure.append(caption);
  const sheet = document.createElement('div');
  sheet.className = 'sheet';
  if (page.preview) {
    const img = document.createElement('img');
    img.src = page.preview.data_url;
    img.alt = `Page ${page.page}`;
    sheet.append(img);
  } else {
    sheet.style.aspectRatio = `${page.width} / ${page.height}`;
  }
  for (const word of page.words) sheet.append(box(word, page));
  figure.append(sheet);
  return figure;
}

export function showPages(container: HTMLElement, result: OcrResult): void {
  container.replaceChildren(...result.pages.map(pageFigure));
}
