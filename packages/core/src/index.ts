/**
 * @multiget/core: the engine, its hooks, the built-in plugins and the public types.
 * @packageDocumentation
 * @module @multiget/core
 */
// First: refuses an unsupported Node.js before anything else loads.
import './nodeVersion.js';
export { REQUIRED_NODE, nodeSupported } from './nodeVersion.js';
export * from './errors.js';
export * from './types.js';
export * from './engine/hooks.js';
export type { ByteSink } from './storage/sink.js';
export { Job, type JobOptions } from './engine/Job.js';
export { ProtocolPlugin } from './plugins/ProtocolPlugin.js';
export { LazyProtocolPlugin } from './plugins/LazyProtocolPlugin.js';
export { expandHome } from './util/homePath.js';
export { Multiget, type MultigetOptions, type DownloadOptions } from './engine/Multiget.js';
export { Download, formatBytes } from './engine/Download.js';
export { TEMP_SUFFIX, STATE_SUFFIX, LOCK_SUFFIX } from './storage/sidecars.js';
export { Scheduler, equalSegments } from './transfer/Scheduler.js';
export { allAtOnce, connectionCeiling, type ConnectionPolicy, type ConnectionPolicyFactory, type ConnectionSample, type CeilingInput } from './transfer/policy.js';
export { StateFile, redactUrl, type SavedState } from './storage/StateFile.js';
export { TokenBucket } from './transfer/TokenBucket.js';
export { TypedEmitter } from './util/TypedEmitter.js';
export { SpeedMeter } from './transfer/SpeedMeter.js';
export { HostSlots } from './transfer/HostSlots.js';
export { parseChecksum, normalizeAlgorithm, strongestDigest, hashFile, DIGEST_STRENGTH } from './util/checksum.js';
export { sanitizeFileName, fileNameFromUrl } from './util/fileName.js';
export { versionProblem, validatorMismatch, type FileVersion, type SeenVersion } from './util/validators.js';
export { SegmentPlanner } from './plugins/SegmentPlanner.js';
export { RetryPolicy, type RetryPolicyOptions } from './plugins/RetryPolicy.js';
export { PartialFile, PartialFileStorage } from './storage/PartialFile.js';
export { MemoryStorage } from './storage/MemoryStorage.js';
export type { ByteReader, Storage, StorageContext } from './storage/Storage.js';
export { ChecksumVerifier } from './plugins/ChecksumVerifier.js';
export { Manager, type ManagerOptions, type ManagerEvents, type Secrets, parseDownloadUrl } from './manager/Manager.js';
export type { AddOptions, EntrySnapshot, EntryState, HistoryEntry, ManagerSettings } from './manager/types.js';
export { PidLock, isAlive, type LockHolder } from './storage/PidLock.js';
export { parseProxyUrl, ProxyResolver, DEFAULT_PORT_OF_SCHEME, type ProxyEndpoint, type ProxyKind, type ProxyOptions } from './net/proxy.js';
export { NoProxyList } from './net/noProxy.js';
export { openTunnel, type TunnelOptions } from './net/openTunnel.js';
