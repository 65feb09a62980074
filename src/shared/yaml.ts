import { createRequire } from 'node:module';

/** YAML text parsed; the parser (about 70 files) is loaded by the first call, so a start-up that reads no YAML file skips it. */
export function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
}
