/**
 * The fake OpenAI-compatible upstream in a process of its own, so a direct call crosses a process
 * boundary as a proxied one does (in the bench's own process it would skip the scheduler entirely).
 * Prints its base URL, then serves until killed.
 */
import { startFakeUpstream } from '../test/helpers/fake-upstream.js';

const upstream = await startFakeUpstream();
process.stdout.write(`upstream at ${upstream.url}\n`);
