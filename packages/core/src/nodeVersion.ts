/**
 * Fails the import of any Multiget package on a Node.js older than it supports, with one sentence,
 * before the libraries that need the newer Node load: on Node 20, undici would otherwise fail deep
 * inside with "Cannot read properties of undefined (reading 'bind')". Every package's entry point
 * imports this module first (`@multiget/core/node-version`); ES modules evaluate their imports in
 * order, so it runs before the rest of the package.
 */

/** The oldest Node.js Multiget runs on (package.json's `engines` says the same). */
export const REQUIRED_NODE = [22, 19] as const;

/** True when a Node version (`22.19.0` or `v22.19.0`) is at least {@link REQUIRED_NODE}. */
export function nodeSupported(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > REQUIRED_NODE[0] || (major === REQUIRED_NODE[0] && minor >= REQUIRED_NODE[1]);
}

if (!nodeSupported(process.versions.node)) {
  throw new Error(`Multiget needs Node >= ${REQUIRED_NODE.join('.')} (this is ${process.versions.node})`);
}
