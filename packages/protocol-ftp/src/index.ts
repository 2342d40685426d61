/**
 * @multiget/protocol-ftp: FTP and FTPS downloads for Multiget, through basic-ftp.
 * @packageDocumentation
 * @module @multiget/protocol-ftp
 */
// First: refuses an unsupported Node.js before anything else loads.
import '@multiget/core/node-version';
export { FtpPlugin, type FtpPluginOptions } from './FtpPlugin.js';
export { ftpTarget, type FtpTarget, type FtpSecurity, type FtpTlsOption } from './ftpTarget.js';
export { ftpFailure, replyError, scrub, type FtpFailureContext, type FtpStep } from './ftpErrors.js';
export { parseMdtm } from './parseMdtm.js';
export type { CaOption } from './trustStore.js';
