import type { ProtocolPlugin } from '@multiget/core';
import { FtpPlugin, type FtpPluginOptions } from '@multiget/protocol-ftp';
import { HttpPlugin, type HttpPluginOptions } from '@multiget/protocol-http';

/** Options of the protocol plugins the service installs. */
export interface PluginOptions {
  /** Proxy, TLS trust, redirect and timeout settings of the HTTP(S) plugin. */
  http?: HttpPluginOptions;
  /** TLS mode and trust of the FTP/FTPS plugin. */
  ftp?: FtpPluginOptions;
}

/**
 * The protocol plugins the service's manager gets. One place on purpose: the schemes they serve
 * appear in `multiget/info` and pass URL validation by themselves.
 */
export function defaultPlugins(options: PluginOptions = {}): ProtocolPlugin[] {
  return [new HttpPlugin(options.http ?? {}), new FtpPlugin(options.ftp ?? {})];
}
