import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Type, Value } from '../shared/typebox.js';
import { ApiKeySchema, type ApiKeyConfig } from '../config/schema.js';
import { parseYaml } from '../shared/yaml.js';

export const sha256 = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** A new random key and the config entry that admits it (only the hash is stored). */
export function createKey(name: string): { key: string; entry: { name: string; sha256: string } } {
  const key = `vg_${randomBytes(24).toString('base64url')}`;
  return { key, entry: { name, sha256: sha256(key).toString('hex') } };
}

/** Keys from config plus the key file, validated. */
export function loadKeys(keys: readonly ApiKeyConfig[], keyFile: string | undefined): ApiKeyConfig[] {
  if (!keyFile) return [...keys];
  const parsed: unknown = parseYaml(readFileSync(keyFile, 'utf8'));
  const list = Type.Array(ApiKeySchema);
  const withDefaults = Value.Default(
    list,
    Array.isArray(parsed) ? parsed.map((k) => Value.Default(ApiKeySchema, k)) : parsed,
  );
  if (!Value.Check(list, withDefaults))
    throw new Error(
      `auth.keyFile ${keyFile}: not a list of {name, sha256, scopes?, models?, rateLimitPerMinute?, maxConcurrent?}`,
    );
  return [...keys, ...withDefaults];
}

/**
 * Finds the key a request presents. Every stored hash is compared, each in constant time,
 * so neither timing nor early exit tells how close a guess was.
 */
export class KeyRing {
  private readonly hashes: Array<{ hash: Buffer; key: ApiKeyConfig }>;

  constructor(keys: ApiKeyConfig[]) {
    this.hashes = keys.map((key) => ({ hash: Buffer.from(key.sha256, 'hex'), key }));
  }

  get size(): number {
    return this.hashes.length;
  }

  find(presented: string): ApiKeyConfig | undefined {
    const digest = sha256(presented);
    let found: ApiKeyConfig | undefined;
    for (const { hash, key } of this.hashes) if (timingSafeEqual(hash, digest) && !found) found = key;
    return found;
  }
}
