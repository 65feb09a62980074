/**
 * werkzeug.utils.secure_filename, ported line by line, as the DeepSynth seed (Flask, on Linux)
 * passed every uploaded name through it before echoing it:
 *
 *   filename = unicodedata.normalize("NFKD", filename)
 *   filename = filename.encode("ascii", "ignore").decode("ascii")
 *   for sep in os.sep, os.path.altsep: if sep: filename = filename.replace(sep, " ")
 *   filename = str(_filename_ascii_strip_re.sub("", "_".join(filename.split()))).strip("._")
 *
 * (`_filename_ascii_strip_re = re.compile(r"[^A-Za-z0-9_.-]")`; the Windows device-name rule
 * applies only when os.name == "nt", which the seed's Linux container is not.)
 */

/** The ASCII characters Python's str.split() treats as whitespace. */
const pythonWhitespace = new Set([' ', '\t', '\n', '\v', '\f', '\r', '\x1c', '\x1d', '\x1e', '\x1f']);
const kept = (c: string): boolean =>
  (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c === '_' || c === '.' || c === '-';

export function secureFilename(filename: string): string {
  // NFKD, then drop what is not ASCII; os.sep ("/") becomes a space (Linux has no altsep).
  const ascii = [...filename.normalize('NFKD')]
    .filter((c) => c.charCodeAt(0) < 0x80)
    .join('')
    .replaceAll('/', ' ');
  // "_".join(filename.split()): runs of whitespace become one "_", none at either end.
  const words: string[] = [];
  let word = '';
  for (const c of ascii) {
    if (pythonWhitespace.has(c)) {
      if (word) words.push(word);
      word = '';
    } else word += c;
  }
  if (word) words.push(word);
  const stripped = [...words.join('_')].filter(kept).join('');
  // .strip("._")
  let start = 0;
  let end = stripped.length;
  while (start < end && (stripped[start] === '.' || stripped[start] === '_')) start++;
  while (end > start && (stripped[end - 1] === '.' || stripped[end - 1] === '_')) end--;
  return stripped.slice(start, end);
}
