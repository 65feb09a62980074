import assert from 'node:assert/strict';
import { test } from 'node:test';
import { guardedLookup, isForbiddenAddress, literalHostForbidden } from '../../src/net/address-guard.js';

test('private, loopback, link-local and embedded-IPv4 addresses are forbidden', () => {
  const forbidden = [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '2002:7f00:1::',
    '64:ff9b::7f00:1',
    'not-an-ip',
  ];
  for (const a of forbidden) assert.equal(isForbiddenAddress(a), true, a);
  for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111']) assert.equal(isForbiddenAddress(a), false, a);
});

test('IP literals in URLs are checked after WHATWG normalisation (decimal, octal, hex)', () => {
  for (const raw of [
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://0x7f.1/',
    'http://[::ffff:7f00:1]/',
    'http://127.1/',
  ]) {
    assert.equal(literalHostForbidden(new URL(raw).hostname), true, raw);
  }
  assert.equal(literalHostForbidden('example.com'), false);
});

test('the connect-time lookup refuses a name resolving to loopback (rebinding)', async () => {
  const resolver = (
    _host: string,
    cb: (e: NodeJS.ErrnoException | null, a: { address: string; family: number }[]) => void,
  ): void => cb(null, [{ address: '127.0.0.1', family: 4 }]);
  const error = await new Promise<Error | null>((resolve) =>
    guardedLookup(false, resolver)('rebind.test', {}, (e) => resolve(e)),
  );
  assert.match(String(error?.message), /private or reserved/);
  const allowed = await new Promise<string>((resolve) =>
    guardedLookup(true, resolver)('rebind.test', {}, (_e, a) => resolve(String(a))),
  );
  assert.equal(allowed, '127.0.0.1');
});
