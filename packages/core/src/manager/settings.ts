import { Multiget } from '../engine/Multiget.js';
import { defaultSettings, normalizeSettings } from '../options/normalizeOptions.js';
import type { ManagerOptions, ManagerSettings } from './types.js';

// A manager's settings where they meet its engine: the engine is made with them, and a change
// (`setSettings`, or the settings its store kept) reaches the running engine at once.

/** The settings a manager starts with: the defaults, overridden by `options.settings` (checked). */
export function initialSettings(options: ManagerOptions): ManagerSettings {
  return { ...defaultSettings(), ...normalizeSettings(options.settings ?? {}) };
}

/** The engine of a manager: `options` less the manager's own, with the limits of `settings`. */
export function createEngine(options: ManagerOptions, settings: ManagerSettings): Multiget {
  const { stateDir: _s, store: _st, contentDir: _c, settings: _t, restore: _r, historyLimit: _h, progressIntervalMs: _p, ...engineOptions } = options;
  return new Multiget({
    ...engineOptions,
    connections: settings.connections,
    maxConnectionsPerHost: settings.maxConnectionsPerHost,
    maxConnections: settings.maxConnections,
    rateLimit: settings.rateLimit,
    retries: settings.retries,
  });
}

/** Gives a running engine the rate limit and connection caps of `settings` (downloads under way included). */
export function applySettings(engine: Multiget, settings: ManagerSettings): void {
  engine.setRateLimit(settings.rateLimit);
  engine.setConnectionLimits(settings.maxConnectionsPerHost, settings.maxConnections);
}
