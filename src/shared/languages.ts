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

/** Tesseract codes of languages written in Latin script (their text reads English words too). */
const latinScript = new Set([
  'eng',
  'fra',
  'deu',
  'spa',
  'ita',
  'por',
  'nld',
  'pol',
  'ces',
  'slk',
  'slv',
  'hrv',
  'hun',
  'ron',
  'swe',
  'nor',
  'dan',
  'fin',
  'est',
  'lav',
  'lit',
  'tur',
  'ind',
  'msa',
  'vie',
  'cat',
  'eus',
  'glg',
  'gle',
  'isl',
  'lat',
  'afr',
  'sqi',
  'aze',
  'uzb',
  'tgl',
  'swa',
  'frk',
  'enm',
  'frm',
  'ita_old',
  'spa_old',
  'mlt',
  'cym',
  'bre',
  'cos',
  'fao',
  'fil',
  'fry',
  'gla',
  'hat',
  'ltz',
  'mri',
  'oci',
  'que',
  'sun',
  'jav',
  'ton',
  'yor',
]);

/**
 * Models that read Latin letters themselves: the Chinese, Japanese and Korean models carry
 * ASCII in their character sets (measured on the development set: `chi_sim+eng` reads a
 * Chinese manual page no better than `chi_sim`, at 1.5× the time).
 */
const carriesLatin = /^(chi_|jpn|kor)/;

/**
 * Real pages mix scripts: a Russian page holds commands, names and URLs in Latin letters,
 * which the Cyrillic model alone reads as Cyrillic noise (`ls` → `15`, `escape` → `езсаре`).
 * Tesseract's advice is to add English (`rus+eng`); so a request naming only non-Latin
 * languages gets `eng` appended, unless the client asks for its languages exactly or a
 * requested model reads Latin by itself.
 */
export function withLatin(languages: string[], exact = false): string[] {
  if (
    exact ||
    languages.length === 0 ||
    languages.some((l) => latinScript.has(l) || l === 'osd' || carriesLatin.test(l))
  )
    return languages;
  return [...languages, 'eng'];
}
