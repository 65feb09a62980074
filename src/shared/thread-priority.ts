import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Lowers the calling worker thread's scheduling priority by `steps` nice levels (Linux keeps a
 * nice value per thread), so the event loop thread gets the CPU first whenever both want it:
 * /health and small requests answer in milliseconds while pages are rendered and read on a
 * machine with two cores. A no-op on the main thread, off Linux, or where it is not allowed.
 */
export function lowerThreadPriority(steps = 5): void {
  try {
    const thread = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!thread || thread === process.pid) return;
    setPriority(thread, Math.min(19, getPriority(thread) + steps));
  } catch {
    // Not Linux, or the system refuses: the thread keeps its priority.
  }
}
