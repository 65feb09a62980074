import type { Config } from '../config/schema.js';
import type { FetchPolicy } from '../net/guarded-fetch.js';

/** The URL-fetch rules for documents, from config. */
export function documentFetchPolicy(config: Readonly<Config>): FetchPolicy {
  return { ...config.fetch, maxBytes: config.limits.maxDocumentBytes };
}
