import type { EntrySnapshot, EntryState, HistoryEntry, ManagerSettings, PauseReason as CorePauseReason } from '@multiget/core';
import type { DownloadInfo, DownloadInfoState, HistoryInfo, PauseReason, Settings } from './protocol.js';

// The protocol declares its own copies of the core's types (the extension must not bundle core).
// These two lines fail to compile when the state names drift apart in either direction.
const _statesMatch: EntryState extends DownloadInfoState ? true : false = true;
const _statesMatchBack: DownloadInfoState extends EntryState ? true : false = true;
void _statesMatch;
void _statesMatchBack;
const _reasonsMatch: CorePauseReason extends PauseReason ? true : false = true;
const _reasonsMatchBack: PauseReason extends CorePauseReason ? true : false = true;
void _reasonsMatch;
void _reasonsMatchBack;

/** A manager snapshot as the protocol shows it: `undefined` becomes `null`, so every field is present. */
export function toDownloadInfo(e: EntrySnapshot): DownloadInfo {
  return {
    id: e.id,
    url: e.url,
    file: e.file ?? null,
    state: e.state,
    priority: e.priority,
    bytes: e.bytes,
    total: e.total ?? null,
    speed: e.speed,
    eta: e.eta ?? null,
    connections: e.connections,
    reason: e.reason ?? null,
    error: e.error ? { code: e.error.code, message: e.error.message } : null,
    addedAt: e.addedAt,
    rateLimit: e.rateLimit ?? null,
    awaitingCredentials: e.awaitingCredentials,
    ...(e.fromCache ? { fromCache: { path: e.fromCache.path } } : {}),
  };
}

/** A history entry as the protocol shows it. */
export function toHistoryInfo(h: HistoryEntry): HistoryInfo {
  return {
    id: h.id,
    url: h.url,
    file: h.file ?? null,
    size: h.size ?? null,
    digest: h.digest ? { algorithm: h.digest.algorithm, hex: h.digest.hex } : null,
    state: h.state,
    errorCode: h.errorCode ?? null,
    errorMessage: h.errorMessage ?? null,
    durationMs: h.durationMs,
    averageSpeed: h.averageSpeed,
    finishedAt: h.finishedAt,
    ...(h.fromCache ? { fromCache: { path: h.fromCache.path } } : {}),
  };
}

/** The manager's settings as the protocol shows them. */
export function toSettings(s: ManagerSettings): Settings {
  return {
    maxConcurrent: s.maxConcurrent,
    connections: s.connections,
    maxConnectionsPerHost: s.maxConnectionsPerHost,
    maxConnections: s.maxConnections,
    rateLimit: s.rateLimit ?? null,
    retries: s.retries,
    dir: s.dir,
  };
}
