import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Only public unicast addresses may be fetched unless config allows private ones:
 * loopback, private, link-local (cloud metadata), CGNAT, multicast, reserved, and IPv6
 * forms that embed IPv4 (mapped, 6to4, Teredo, NAT64) are all refused.
 */
export function isForbiddenAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  const parsed = ipaddr.process(address); // ::ffff:127.0.0.1 → 127.0.0.1
  // The deprecated IPv4-compatible form (::a.b.c.d) also embeds an IPv4 address.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((p) => p === 0)) return true;
  return parsed.range() !== 'unicast';
}

/** Names that are loopback by definition (RFC 6761), whatever a resolver says. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

export class ForbiddenAddressError extends Error {
  override name = 'ForbiddenAddressError';
  readonly code = 'EFORBIDDENADDRESS';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type Resolver = (
  hostname: string,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolver: Resolver = (hostname, callback) => dnsLookup(hostname, { all: true }, callback);

/**
 * A `lookup` for net/tls connect that refuses forbidden addresses *at connect time*, so a
 * DNS answer that changes between check and use (rebinding) cannot slip through.
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolver = systemResolver) {
  return (hostname: string, options: { all?: boolean } | number, callback: LookupCallback): void => {
    resolve(hostname, (error, addresses) => {
      if (error) return callback(error, '');
      const forbidden = addresses.find((a) => isForbiddenAddress(a.address));
      if (!allowPrivate && forbidden)
        return callback(
          new ForbiddenAddressError(`${hostname} resolves to ${forbidden.address}, a private or reserved address`),
          '',
        );
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
      if (typeof options === 'object' && options.all) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };
}

/** For URLs whose host is an IP literal, which never reach a resolver. */
export function literalHostForbidden(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return isIP(bare) !== 0 && isForbiddenAddress(bare);
}
