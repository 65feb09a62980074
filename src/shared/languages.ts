import { appError } from '../errors/app-error.js';

/** Names people pass (ISO 639-1, English names, the seeds' "Russian") → Tesseract codes. */
const aliases: Record<string, string> = {
  en: 'eng',
  english: 'eng',
  fr: 'fra',
  french: 'fra',
  francais: 'fra',
  français: 'fra',
  de: 'deu',
  german: 'deu',
  deutsch: 'deu',
  ru: 'rus',
  russian: 'rus',
  русский: 'rus',
  zh: 'chi_sim',
  'zh-cn': 'chi_sim',
  'zh-hans': 'chi_sim',
  chinese: 'chi_sim',
  'simplified chinese': 'chi_sim',
  chi: 'chi_sim',
  'zh-tw': 'chi_tra',
  'zh-hant': 'chi_tra',
  'traditional chinese': 'chi_tra',
  es: 'spa',
  spanish: 'spa',
  it: 'ita',
  italian: 'ita',
  pt: 'por',
  portuguese: 'por',
  ja: 'jpn',
  japanese: 'jpn',
  ko: 'kor',
  korean: 'kor',
  uk: 'ukr',
  ukrainian: 'ukr',
  nl: 'nld',
  dutch: 'nld',
  pl: 'pol',
  polish: 'pol',
  ar: 'ara',
  arabic: 'ara',
};

/**
 * The one parser of languages, for request fields and config alike: "eng+fra", "en,fr",
 * ["English"], "Russian" → Tesseract codes; `fallback` (already parsed) when the input is empty.
 * Unknown spellings are kept as given: whether they are installed is the engines' to say.
 */
export function parseLanguages(input: string | string[] | undefined, fallback: readonly string[] = []): string[] {
  if (
    input === undefined ||
    (typeof input === 'string' && input.trim() === '') ||
    (Array.isArray(input) && input.length === 0)
  )
    return [...fallback];
  const raw = input;
  const parts = (Array.isArray(raw) ? raw : [raw])
    .flatMap((s) => s.split(/[+,]/))
    .map((s) => s.trim())
    .filter(Boolean);
  const codes = parts.map((p) => aliases[p.toLowerCase()] ?? p.toLowerCase());
  for (const code of codes) {
    if (!/^[a-z_]{2,20}$/.test(code))
      throw appError(
        'invalid_parameter',
        `languages: "${code}" is not a language code; use Tesseract codes such as eng, fra, deu, rus, chi_sim joined by "+"`,
        { field: 'languages', received: code },
      );
  }
  return [...new Set(codes)];
}

export const isChinese = (code: string): boolean => code.startsWith('chi_');
