/**
 * @multiget/protocol-sftp: SFTP downloads for Multiget over ssh2, with OpenSSH-style authentication
 * and host key checking, and a copy-free SFTP reader of its own.
 * @packageDocumentation
 * @module @multiget/protocol-sftp
 */
// First: refuses an unsupported Node.js before anything else loads.
import '@multiget/core/node-version';
export { SftpPlugin, SFTP_DEFAULTS, type SftpPluginOptions } from './SftpPlugin.js';
export { SftpByteSource, type SftpReadPlan } from './SftpByteSource.js';
export { SftpSession, SftpStatusReply, SftpSessionError, FALLBACK_MAX_READ, type SftpAttributes, type SftpServerInfo } from './SftpSession.js';
export {
  parseKnownHosts,
  checkHostKey,
  entryMatchesHost,
  hostLookupName,
  knownKeyTypes,
  matchPattern,
  type HostKeyCheck,
  type KnownHostEntry,
  type KnownHostMarker,
  type KnownHostsProblem,
  type ParsedKnownHosts,
} from './knownHosts.js';
export { fingerprintOf, keyTypeOf, normalizeFingerprint } from './sshKey.js';
export { parseSftpUrl, type SftpLocation } from './sftpUrl.js';
export { sftpStatusError, SftpStatus } from './sftpErrors.js';
export { DEFAULT_KEY_FILES } from './auth.js';
export { nativeCryptoAvailable } from './nativeCrypto.js';
