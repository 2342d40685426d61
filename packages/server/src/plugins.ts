import type { ProtocolPlugin } from '@multiget/core';
import { FtpPlugin, type FtpPluginOptions } from '@multiget/protocol-ftp';
import { HttpPlugin, type HttpPluginOptions } from '@multiget/protocol-http';
import { SftpPlugin, type SftpPluginOptions } from '@multiget/protocol-sftp';

/** Options of the protocol plugins the service installs. */
export interface PluginOptions {
  /** Proxy, TLS trust, redirect and timeout settings of the HTTP(S) plugin. */
  http?: HttpPluginOptions;
  /** TLS mode and trust of the FTP/FTPS plugin. */
  ftp?: FtpPluginOptions;
  /** Keys, known hosts and pinned fingerprints of the SFTP plugin (default: the user's ~/.ssh). */
  sftp?: SftpPluginOptions;
}

/**
 * The protocol plugins the service's manager gets. One place on purpose: the schemes they serve
 * appear in `multiget/info` and pass URL validation by themselves.
 */
export function defaultPlugins(options: PluginOptions = {}): ProtocolPlugin[] {
  return [new HttpPlugin(options.http ?? {}), new FtpPlugin(options.ftp ?? {}), new SftpPlugin(options.sftp ?? {})];
}
