import type { Agent, ProxyAgent, buildConnector } from 'undici';
// First: it must run before undici's Client is loaded (see the module).
import './deferHttp2.js';
import AgentModule from 'undici/lib/dispatcher/agent.js';
import connectModule from 'undici/lib/core/connect.js';

/*
 * undici's parts, each from its own module rather than through `undici`'s index: the index loads all
 * of undici (fetch, WebSocket, caches, mocks), several times the start-up cost of the dispatcher
 * modules this package uses, paid by every command. The imports are static (an ESM import of a
 * CommonJS module gives its `module.exports`), so that the VS Code extension's esbuild bundle
 * carries them: a runtime `require` of a computed path is left out of a bundle, and the installed
 * extension has no node_modules. A test checks that each is the export the index gives.
 */

/** undici's Agent. */
export const loadAgent = (): typeof Agent => AgentModule;
/**
 * undici's ProxyAgent, through the index, and only when an HTTP(S) proxy is configured: it opens its
 * tunnels with `Dispatcher.prototype.connect`, which the index installs.
 */
export const loadProxyAgent = async (): Promise<typeof ProxyAgent> => (await import('undici')).ProxyAgent;
/** undici's buildConnector (for SOCKS tunnels). */
export const loadBuildConnector = (): typeof buildConnector => connectModule;
