/**
 * `@multiget/test-servers`: real HTTP/HTTPS servers with named faults, and a forward proxy, for
 * Multiget's tests and benchmark.
 *
 * @packageDocumentation
 */
export { startHttpServer } from './http/startHttpServer.js';
export { startProxyServer } from './http/startProxyServer.js';
export { startLatencyRelay, type LatencyRelay, type LatencyRelayOptions } from './startLatencyRelay.js';
export { generateContent } from './generatedContent.js';
export { testCertificate, type TestCertificate } from './certificate.js';
export { sha256 } from './sha256.js';
export type { FileContent, GeneratedContent } from './content.js';
export type { TransferFaults } from './faults.js';
// Building blocks for a test server of your own that speaks the same fault vocabulary (the
// examples' toy protocol server uses them).
export { FaultState, validateTransferFaults, type Admission, type CountedFault } from './faults.js';
export { SocketTracker, TransferCounters } from './counters.js';
export { TokenBucket } from './TokenBucket.js';
export { alteredContent, contentSize, readContent } from './generatedContent.js';
export type {
  FileOptions,
  HttpFaults,
  HttpServerOptions,
  HttpTestServer,
  ProxyRequestRecord,
  ProxyServerOptions,
  ProxyTestServer,
  RequestRecord,
} from './http/types.js';
export { startFtpServer } from './ftp/startFtpServer.js';
export { startVsftpd } from './ftp/startVsftpd.js';
export type * from './ftp/types.js';
export { startSftpServer } from './sftp/startSftpServer.js';
export { startOpenSshServer, sshKeygen } from './sftp/OpenSshServer.js';
export { generateSshKeyPair, sshFingerprint, publicKeyBlob, knownHostsName } from './sftp/sshKeys.js';
export type * from './sftp/types.js';
export { startSocksServer } from './socks/SocksServer.js';
export type { SocksConnectionRecord, SocksOutcome, SocksServerOptions, SocksTestServer } from './socks/types.js';
export { startDante, type DanteConnection, type DanteOptions, type DanteServer } from './socks/startDante.js';
