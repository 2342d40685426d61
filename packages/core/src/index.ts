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
export { sameOrigin } from './util/sameOrigin.js';
export { releaseBuffer, type ReleaseBufferOptions } from './util/releaseBuffer.js';
export { newId } from './util/flatString.js';
export { Multiget, type MultigetOptions, type DownloadOptions } from './engine/Multiget.js';
export { Download, formatBytes } from './engine/Download.js';
export { TEMP_SUFFIX, STATE_SUFFIX, LOCK_SUFFIX } from './storage/sidecars.js';
export { type Pace, Scheduler, equalSegments } from './transfer/Scheduler.js';
export {
  allAtOnce,
  connectionCeiling,
  type ConnectionPolicy,
  type ConnectionPolicyContext,
  type ConnectionPolicyFactory,
  type ConnectionSample,
  type ConnectionStart,
  type CeilingInput,
} from './transfer/policy.js';
export { AdaptivePolicy, adaptiveConnections, type AdaptivePolicyOptions } from './transfer/AdaptivePolicy.js';
export { HostCapMemory } from './transfer/HostCapMemory.js';
export { StateFile, type SavedState } from './storage/StateFile.js';
export { REDACTED, redactUrl, redactText, redactHeaders, redactFields, withoutUserinfo, isSecretName, isSecretParam } from './log/redact.js';
export { LOG_LEVELS, LEVEL_RANK, fieldsFirst, isLogSetting, type LogLevel, type LogSetting, type LogFields, type Logger, type FieldsFirstLogger } from './log/Logger.js';
export { Log, type LazyFields } from './log/Log.js';
export { formatFields, formatLogMessage, formatLogLine, nodeDebugLogger } from './log/format.js';
export { TokenBucket } from './transfer/TokenBucket.js';
export { TypedEmitter } from './util/TypedEmitter.js';
export { SpeedMeter } from './transfer/SpeedMeter.js';
export { HostSlots } from './transfer/HostSlots.js';
export { parseChecksum, normalizeAlgorithm, strongestDigest, hashFile, checksumOrigin, DIGEST_STRENGTH } from './util/checksum.js';
export { ChecksumFiles, checksumCandidates, CHECKSUM_FILE_LIMIT, type ChecksumCandidate } from './checksums/ChecksumFiles.js';
export { findChecksum, type ChecksumLine } from './checksums/parseChecksumFile.js';
export { sanitizeFileName, fileNameFromUrl } from './util/fileName.js';
export { printable } from './util/printable.js';
export { versionProblem, validatorMismatch, type FileVersion, type SeenVersion } from './util/validators.js';
export { SegmentPlanner } from './plugins/SegmentPlanner.js';
export { RetryPolicy, type RetryPolicyOptions } from './plugins/RetryPolicy.js';
export { PartialFile, PartialFileStorage } from './storage/PartialFile.js';
export { MemoryStorage } from './storage/MemoryStorage.js';
export type { ByteReader, Storage, StorageContext } from './storage/Storage.js';
export { ChecksumVerifier } from './plugins/ChecksumVerifier.js';
export { MirrorPlugin, type SourceReport } from './mirrors/MirrorPlugin.js';
export {
  parseMetalink,
  looksLikeMetalink,
  METALINK_NS,
  METALINK_MEDIA_TYPE,
  MAX_METALINK_BYTES,
  type MetalinkFile,
  type MetalinkUrl,
  type PieceHashes,
} from './mirrors/metalink.js';
export { Manager, type ManagerOptions, type ManagerEvents, type Secrets, parseDownloadUrl } from './manager/Manager.js';
export type { AddOptions, EntrySnapshot, EntryState, HistoryEntry, ManagerSettings, PauseReason } from './manager/types.js';
export { isLinkExpiry } from './manager/linkExpiry.js';
export { planFolder, addFolder, type FolderOptions, type FolderPlan, type FolderFile, type FolderAdded } from './manager/folders.js';
export { walkRemoteTree, MAX_TREE_DEPTH, MAX_TREE_ENTRIES, type TreeFilter, type TreeFile, type SkippedEntry, type RemoteTree, type ListFolder } from './listing/walkTree.js';
export { GlobPattern } from './listing/glob.js';
export type { RemoteEntry, RemoteEntryType } from './listing/types.js';
export { JsonFileStore } from './manager/store/JsonFileStore.js';
export type {
  ManagerStore,
  ManagerDocuments,
  QueueDocument,
  HistoryDocument,
  ContentDocument,
  ContentRecord,
  PersistedEntry,
} from './manager/store/ManagerStore.js';
export { contentKey } from './manager/content/contentKey.js';
export { resolveStateDir, type StateDirContext } from './manager/stateDir.js';
export { OPTION_LIMITS, describeRange, type OptionLimit, type OptionUnit, type NumericOptionName } from './options/limits.js';
export {
  normalizeOptions,
  normalizeSettings,
  normalizeHeaders,
  checkOption,
  checkNumericOptions,
  defaultSettings,
  type NormalizedOptions,
  type OptionLabel,
} from './options/normalizeOptions.js';
export { PidLock, isAlive, type LockHolder } from './storage/PidLock.js';
export { parseProxyUrl, ProxyResolver, DEFAULT_PORT_OF_SCHEME, type ProxyEndpoint, type ProxyKind, type ProxyOptions } from './net/proxy.js';
export { NoProxyList } from './net/noProxy.js';
export { openTunnel, type TunnelOptions } from './net/openTunnel.js';
export * from './trace/index.js';
export {
  SLAB_SIZE,
  connectSlabSocket,
  isSlabView,
  slabCounts,
  slabHandedOn,
  slabPinned,
  slabReleased,
  type SlabCounts,
  type SlabDelivery,
  type SlabSocketOptions,
} from './util/slabSocket.js';
