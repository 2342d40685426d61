import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

/**
 * One export of undici, loaded from its own module rather than through `undici`'s index: the index
 * loads all of undici (fetch, WebSocket, caches, mocks), about ten times the start-up cost of the
 * dispatcher parts this package uses, paid by every command. Only `dispatch` is used on these parts
 * (the index also installs `request`, `stream`, `connect` on every dispatcher). The module paths are undici's
 * internals, so when one is missing or exports something else (another major version), the index
 * serves instead: slower to load, same behaviour.
 */
function part<K extends 'Agent' | 'buildConnector'>(name: K, path: string): (typeof Undici)[K] {
  try {
    const loaded: unknown = require(`undici/${path}`);
    if (typeof loaded === 'function' && (name === 'buildConnector' || loaded.name === name)) return loaded as (typeof Undici)[K];
  } catch {
    // fall through to the index
  }
  return (require('undici') as typeof Undici)[name];
}

/** undici's Agent (its module, not the index). */
export const loadAgent = (): typeof Undici.Agent => part('Agent', 'lib/dispatcher/agent.js');
/**
 * undici's ProxyAgent, through the index, and only when an HTTP(S) proxy is configured: it opens its
 * tunnels with `Dispatcher.prototype.connect`, which the index installs.
 */
export const loadProxyAgent = (): typeof Undici.ProxyAgent => (require('undici') as typeof Undici).ProxyAgent;
/** undici's buildConnector (for SOCKS tunnels). */
export const loadBuildConnector = (): typeof Undici.buildConnector => part('buildConnector', 'lib/core/connect.js');
