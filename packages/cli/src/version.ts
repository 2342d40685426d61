import { readFileSync } from 'node:fs';

/**
 * The version of this package, read from its package.json (one level above both `src/` and
 * `dist/`), so it cannot drift from what npm publishes.
 */
export function cliVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const version = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === 'string' ? version : '0.0.0';
}
