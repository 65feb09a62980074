import type { Agent, Dispatcher } from 'undici';
import { loadUndici } from '../shared/lazy-modules.js';
import { appError, formatBytes, isAppError } from '../errors/app-error.js';
import {
  ForbiddenAddressError,
  guardedLookup,
  isLoopbackName,
  literalHostForbidden,
  type Resolver,
} from './address-guard.js';

export interface FetchPolicy {
  allowPrivateAddresses: boolean;
  /** Hosts fetched even on private addresses (exact host names or IPs). */
  allowHosts: readonly string[];
  timeoutMs: number;
  maxRedirects: number;
  maxBytes: number;
  /** Name resolution (tests inject one); the system resolver by default. */
  resolve?: Resolver;
}

export interface Fetched {
  bytes: Buffer;
  contentType: string | undefined;
  finalUrl: string;
}

const agents = new Map<Resolver | undefined, Map<boolean, Agent>>();
async function agentFor(allowPrivate: boolean, resolve: Resolver | undefined): Promise<Agent> {
  const { Agent } = await loadUndici();
  const byResolver = agents.get(resolve) ?? new Map<boolean, Agent>();
  agents.set(resolve, byResolver);
  let agent = byResolver.get(allowPrivate);
  if (!agent) {
    agent = new Agent({ connect: { lookup: guardedLookup(allowPrivate, resolve) as never }, connections: 16 });
    byResolver.set(allowPrivate, agent);
  }
  return agent;
}

/** An allowHosts entry: "host:port" or "[v6]:port" allow that port only; a bare host its scheme's default port (80, 443). */
function parseAllowed(entry: string): { host: string; port: string | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!.toLowerCase(), port: bracketed[2] };
  const colon = entry.lastIndexOf(':');
  // One colon: host:port; more (a bare IPv6 address) or none: no port.
  if (colon > 0 && entry.indexOf(':') === colon && /^\d+$/.test(entry.slice(colon + 1)))
    return { host: entry.slice(0, colon).toLowerCase(), port: entry.slice(colon + 1) };
  return { host: entry.toLowerCase(), port: undefined };
}

const defaultPort = (url: URL): string => url.port || (url.protocol === 'https:' ? '443' : '80');

/** The URL's host and port are listed in fetch.allowHosts (a redirect to another port of that host is not). */
const allowedHost = (url: URL, policy: Pick<FetchPolicy, 'allowHosts'>): boolean => {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = defaultPort(url);
  return policy.allowHosts.some((entry) => {
    const allowed = parseAllowed(entry.trim());
    return allowed.host === host && (allowed.port ?? (url.protocol === 'https:' ? '443' : '80')) === port;
  });
};

function checkUrl(raw: string, policy: FetchPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw appError('url_forbidden', `"${raw.slice(0, 200)}" is not a valid URL`, { field: 'url' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw appError('url_forbidden', `only http and https URLs can be fetched, not ${url.protocol}`, { field: 'url' });
  if (url.username || url.password)
    throw appError('url_forbidden', 'URLs with credentials are not fetched', { field: 'url' });
  // WHATWG parsing has already turned decimal/octal/hex IPv4 forms into dotted quads.
  if (
    !policy.allowPrivateAddresses &&
    !allowedHost(url, policy) &&
    (literalHostForbidden(url.hostname) || isLoopbackName(url.hostname))
  ) {
    throw appError(
      'url_forbidden',
      `${url.hostname} is a private, loopback or reserved address; set fetch.allowPrivateAddresses to allow it`,
      { field: 'url' },
    );
  }
  return url;
}

async function readLimited(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      body.destroy();
      throw appError(
        'payload_too_large',
        `the document at the URL is larger than ${formatBytes(maxBytes)} (limits.maxDocumentBytes)`,
        { limit: maxBytes },
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** GET a document by URL under the SSRF policy: every hop checked, size and time bounded. */
export async function guardedFetch(raw: string, policy: FetchPolicy, signal?: AbortSignal): Promise<Fetched> {
  const url = checkUrl(raw, policy);
  // One deadline for all hops, cleared when done so nothing fires after the answer.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException('timeout', 'TimeoutError')), policy.timeoutMs);
  const forward = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  try {
    return await fetchHops(url, policy, controller.signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  }
}

async function fetchHops(first: URL, policy: FetchPolicy, combined: AbortSignal): Promise<Fetched> {
  let url = first;
  for (let hop = 0; ; hop++) {
    let response: Dispatcher.ResponseData;
    try {
      const { request } = await loadUndici();
      const dispatcher = await agentFor(policy.allowPrivateAddresses || allowedHost(url, policy), policy.resolve);
      response = await request(url, {
        method: 'GET',
        dispatcher,
        signal: combined,
        headers: { 'user-agent': 'visiongate' },
      });
    } catch (error) {
      throw translate(error, url, policy);
    }
    if (response.statusCode >= 300 && response.statusCode < 400 && response.headers.location) {
      await response.body.dump().catch(() => undefined);
      if (hop >= policy.maxRedirects)
        throw appError(
          'url_fetch_failed',
          `too many redirects (more than ${policy.maxRedirects}, fetch.maxRedirects)`,
          { field: 'url' },
        );
      url = checkUrl(new URL(String(response.headers.location), url).href, policy);
      continue;
    }
    if (response.statusCode >= 400) {
      await response.body.dump().catch(() => undefined);
      throw appError('url_fetch_failed', `the URL answered HTTP ${response.statusCode}`, {
        field: 'url',
        upstream_status: response.statusCode,
      });
    }
    const declared = Number(response.headers['content-length']);
    if (declared > policy.maxBytes) {
      await response.body.dump({ limit: 0 }).catch(() => undefined);
      throw appError(
        'payload_too_large',
        `the document at the URL is ${formatBytes(declared)}; the limit is ${formatBytes(policy.maxBytes)} (limits.maxDocumentBytes)`,
        { limit: policy.maxBytes },
      );
    }
    try {
      const bytes = await readLimited(response.body, policy.maxBytes);
      const type = response.headers['content-type'];
      return { bytes, contentType: Array.isArray(type) ? type[0] : type, finalUrl: url.href };
    } catch (error) {
      throw translate(error, url, policy);
    }
  }
}

function translate(error: unknown, url: URL, policy: FetchPolicy): unknown {
  if (isAppError(error)) return error;
  const e = error as { name?: string; code?: string; message?: string; cause?: unknown };
  if (
    e instanceof ForbiddenAddressError ||
    e.cause instanceof ForbiddenAddressError ||
    e.code === 'EFORBIDDENADDRESS'
  ) {
    return appError(
      'url_forbidden',
      `${url.hostname} resolves to a private, loopback or reserved address; set fetch.allowPrivateAddresses to allow it`,
      { field: 'url' },
    );
  }
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return appError(
      'url_fetch_failed',
      `fetching ${url.host} took longer than ${policy.timeoutMs} ms (fetch.timeoutMs) or was cancelled`,
      { field: 'url' },
    );
  return appError('url_fetch_failed', `could not fetch ${url.host}: ${e.code ?? e.message ?? 'connection failed'}`, {
    field: 'url',
  });
}

/**
 * POST a small body (a webhook) under the same SSRF policy. Redirects are not followed:
 * a receiver answering 3xx has not taken the delivery. Resolves with the status code.
 */
export async function guardedPost(
  raw: string,
  body: string,
  headers: Record<string, string>,
  policy: Omit<FetchPolicy, 'maxBytes' | 'maxRedirects'>,
  signal?: AbortSignal,
): Promise<number> {
  const checkPolicy = { ...policy, maxBytes: 0, maxRedirects: 0 };
  const url = checkUrl(raw, checkPolicy);
  const timeout = AbortSignal.timeout(policy.timeoutMs);
  try {
    const { request } = await loadUndici();
    const dispatcher = await agentFor(policy.allowPrivateAddresses || allowedHost(url, checkPolicy), policy.resolve);
    const response = await request(url, {
      method: 'POST',
      dispatcher,
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headers: { 'user-agent': 'visiongate', 'content-type': 'application/json', ...headers },
    });
    await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    return response.statusCode;
  } catch (error) {
    throw translate(error, url, checkPolicy);
  }
}

/** Checks a URL's form and literal address now (a webhook's), before anything is fetched. */
export function checkFetchableUrl(raw: string, policy: Pick<FetchPolicy, 'allowPrivateAddresses' | 'allowHosts'>): URL {
  return checkUrl(raw, { ...policy, timeoutMs: 0, maxRedirects: 0, maxBytes: 0 });
}
