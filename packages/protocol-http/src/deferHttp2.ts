import Module, { createRequire } from 'node:module';

/*
 * undici's Client loads its HTTP/2 half (`client-h2.js`, which loads `node:http2`) when it is first
 * required, though it calls it only for a connection that negotiated h2 through ALPN, which this
 * package never offers (no `allowH2`). Loading `node:http2` costs every command and every service
 * start-up time and memory: a one-file download of the CLI peaks at 73.9 MiB of RSS without it,
 * 77.4 MiB with it. This module, imported before undici's
 * Agent, puts a stand-in for `client-h2.js` in the require cache: a function that loads the real
 * module on first use (a call, or any property read), so that undici behaves exactly as before
 * whatever it does with it, and `node:http2` loads only if a connection ever needs it.
 *
 * Nothing happens when undici's file cannot be resolved (the VS Code extension's esbuild bundle,
 * which carries undici's modules inside it) or is already loaded.
 */

const require = createRequire(import.meta.url);

/** The stand-in, or undefined when it could not be put in place. Exported for the tests. */
export const deferredHttp2: { path: string; loaded: () => boolean } | undefined = install();

function install(): { path: string; loaded: () => boolean } | undefined {
  let path: string;
  try {
    path = require.resolve('undici/lib/dispatcher/client-h2.js');
  } catch {
    return undefined;
  }
  if (require.cache[path] !== undefined) return undefined;
  let real: unknown;
  const load = (): object => {
    if (real === undefined) {
      // The real module takes the stand-in's place in the cache for anyone who requires it later.
      delete require.cache[path];
      real = require(path);
    }
    return real as object;
  };
  // The target only makes the stand-in a function (`typeof`); every use goes through the traps.
  const standIn = new Proxy(load, {
    apply: (_target, self, args) => Reflect.apply(load() as (...a: unknown[]) => unknown, self, args),
    get: (_target, prop) => Reflect.get(load(), prop),
    has: (_target, prop) => Reflect.has(load(), prop),
  });
  const entry = new Module(path);
  entry.filename = path;
  entry.loaded = true;
  entry.exports = standIn;
  require.cache[path] = entry;
  return { path, loaded: () => real !== undefined };
}
