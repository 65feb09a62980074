/**
 * Bounds a ZIP-based document (DOCX) before a parser inflates it: entries are counted from
 * the central directory, and every entry is inflated once with its output capped at what is
 * left of the budget, so a bomb (a small file that inflates to gigabytes, or sizes that lie)
 * stops at the limit instead of exhausting memory. Runs in worker threads.
 */
import { inflateRawSync } from 'node:zlib';
import { appError, formatBytes } from '../errors/app-error.js';

export interface ArchiveLimits {
  maxDecompressedBytes: number;
  maxArchiveEntries: number;
}

const endOfDirectory = 0x06054b50;
const directoryEntry = 0x02014b50;
const localHeader = 0x04034b50;

const corrupt = (why: string): Error =>
  appError('corrupt_document', `the DOCX (ZIP) archive is corrupt: ${why}`, { received: 'docx' });

function tooLarge(limits: ArchiveLimits, what: string): Error {
  return appError(
    'archive_too_large',
    `the archive inflates to ${what}; the limit is ${formatBytes(limits.maxDecompressedBytes)} (limits.maxDecompressedBytes)`,
    { limit: limits.maxDecompressedBytes },
  );
}

/** Throws a catalog error when the archive is corrupt or exceeds a limit; returns the bytes it inflates to. */
export function checkArchive(bytes: Uint8Array, limits: ArchiveLimits): number {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-directory record sits in the last 22 bytes plus a comment of at most 64 KiB.
  let end = -1;
  for (let at = data.length - 22; at >= Math.max(0, data.length - 22 - 0xffff); at--) {
    if (data.readUInt32LE(at) === endOfDirectory) {
      end = at;
      break;
    }
  }
  if (end < 0) throw corrupt('no end-of-directory record');
  const entries = data.readUInt16LE(end + 10);
  const directoryOffset = data.readUInt32LE(end + 16);
  if (entries === 0xffff || directoryOffset === 0xffffffff) throw corrupt('ZIP64 archives are not read');
  if (entries > limits.maxArchiveEntries) {
    throw appError(
      'archive_too_large',
      `the archive has ${entries} entries; the limit is ${limits.maxArchiveEntries} (limits.maxArchiveEntries)`,
      { limit: limits.maxArchiveEntries },
    );
  }
  let total = 0;
  let at = directoryOffset;
  for (let i = 0; i < entries; i++) {
    if (at + 46 > data.length || data.readUInt32LE(at) !== directoryEntry)
      throw corrupt(`directory entry ${i + 1} is missing`);
    const method = data.readUInt16LE(at + 10);
    const compressed = data.readUInt32LE(at + 20);
    const declared = data.readUInt32LE(at + 24);
    const nameLength = data.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + data.readUInt16LE(at + 30) + data.readUInt16LE(at + 32);
    const local = data.readUInt32LE(at + 42);
    if (compressed === 0xffffffff || declared === 0xffffffff) throw corrupt('ZIP64 archives are not read');
    // Declared sizes first: a plain bomb is refused without inflating anything.
    if (total + declared > limits.maxDecompressedBytes)
      throw tooLarge(limits, `more than ${formatBytes(total + declared)}`);
    if (local + 30 > data.length || data.readUInt32LE(local) !== localHeader)
      throw corrupt(`entry ${i + 1} points outside the file`);
    const start = local + 30 + data.readUInt16LE(local + 26) + data.readUInt16LE(local + 28);
    if (start + compressed > data.length) throw corrupt(`entry ${i + 1} runs past the end of the file`);
    const remaining = limits.maxDecompressedBytes - total;
    if (method === 0) total += compressed;
    else if (method === 8) {
      // Sizes can lie: inflate with the output capped at what the budget has left.
      try {
        total += inflateRawSync(data.subarray(start, start + compressed), {
          maxOutputLength: Math.max(1, remaining),
        }).length;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
          throw tooLarge(limits, `more than ${formatBytes(limits.maxDecompressedBytes)}`);
        throw corrupt(`entry ${i + 1} cannot be inflated (${(error as Error).message})`);
      }
    } else throw corrupt(`entry ${i + 1} uses compression method ${method}, which is not read`);
    if (total > limits.maxDecompressedBytes) throw tooLarge(limits, `more than ${formatBytes(total)}`);
    at = next;
  }
  return total;
}
