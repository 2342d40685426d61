import { Agent, ProxyAgent, buildConnector } from 'undici';

/*
 * undici's parts, imported statically: the VS Code extension bundles the service with esbuild, and a
 * package loaded with a runtime `require` of a computed path is not in the bundle (the installed
 * extension has no node_modules), so every request failed there. Loading undici's internal modules
 * one by one saved start-up time on the command line, but only where node_modules are present.
 */

/** undici's Agent. */
export const loadAgent = (): typeof Agent => Agent;
/** undici's ProxyAgent (its tunnels use `Dispatcher.prototype.connect`). */
export const loadProxyAgent = (): typeof ProxyAgent => ProxyAgent;
/** undici's buildConnector (for SOCKS tunnels). */
export const loadBuildConnector = (): typeof buildConnector => buildConnector;
