import type { ProtocolPlugin } from '@multiget/core';
import { HttpPlugin, type HttpPluginOptions } from '@multiget/protocol-http';

/** Options of the protocol plugins the service installs. */
export interface PluginOptions {
  /** Proxy, TLS trust, redirect and timeout settings of the HTTP(S) plugin. */
  http?: HttpPluginOptions;
}

/**
 * The protocol plugins the service's manager gets. One place on purpose: FTP and SFTP join here,
 * and the schemes they serve then appear in `multiget/info` and pass URL validation by themselves.
 */
export function defaultPlugins(options: PluginOptions = {}): ProtocolPlugin[] {
  return [new HttpPlugin(options.http ?? {})];
}
