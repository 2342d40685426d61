import type { HookHost } from '../engine/hooks.js';
import type { Job } from '../engine/Job.js';
import { ProtocolPlugin } from './ProtocolPlugin.js';
import type { ByteSource, RangeRequest, RemoteInfo } from '../types.js';

/**
 * A protocol plugin that is imported and built on first use. It serves its schemes from the start
 * (a manager lists them and accepts their URLs), but the real plugin, and the libraries behind it,
 * are loaded only when a URL of one of them is resolved or {@link load} is called. A program that
 * offers many protocols then starts as fast as one that offers the protocol a run needs.
 *
 * When the real plugin arrives it is applied to every engine this one was applied to, so all its
 * taps (not only probe and fetchRange) are in place before the first job of its schemes goes on.
 * Those taps come after the taps of plugins applied in the meantime: a plugin whose hooks must run
 * in a fixed order relative to others should not be loaded lazily.
 *
 * @example
 * new LazyProtocolPlugin('SftpPlugin', ['sftp:'], async () => {
 *   const { SftpPlugin } = await import('@multiget/protocol-sftp');
 *   return new SftpPlugin(options);
 * });
 */
export class LazyProtocolPlugin extends ProtocolPlugin {
  readonly #hosts: HookHost[] = [];
  #loading: Promise<ProtocolPlugin> | undefined;
  #plugin: ProtocolPlugin | undefined;

  /**
   * @param name Name of the plugin (for `Multiget.plugins` and logs); usually the real plugin's.
   * @param schemes Schemes to serve, as the real plugin names them (`['http:', 'https:']`).
   * @param factory Imports and builds the real plugin. Called once; a rejection fails the
   *   downloads that needed it, with its error, and is kept (no second attempt).
   */
  constructor(
    readonly name: string,
    readonly schemes: readonly string[],
    private readonly factory: () => Promise<ProtocolPlugin>,
  ) {
    super();
  }

  /** The real plugin, once loaded. */
  get loaded(): ProtocolPlugin | undefined {
    return this.#plugin;
  }

  /** Loads the real plugin now (e.g. to surface errors in its options early); idempotent. */
  load(): Promise<ProtocolPlugin> {
    this.#loading ??= this.factory().then((plugin) => {
      for (const host of this.#hosts) plugin.apply(host);
      this.#plugin = plugin;
      return plugin;
    });
    return this.#loading;
  }

  override apply(engine: HookHost): void {
    this.#hosts.push(engine);
    if (this.#plugin) {
      this.#plugin.apply(engine);
      return;
    }
    engine.hooks.resolve.tapPromise(this.name, async (url) => (this.schemes.includes(url.protocol) ? this.load() : undefined));
  }

  // Jobs of these schemes have the real plugin as their driver, so the engine never calls these two;
  // they delegate for code that calls a plugin directly.
  async probe(job: Job): Promise<RemoteInfo> {
    return (await this.load()).probe(job);
  }

  async fetchRange(req: RangeRequest, job: Job): Promise<ByteSource> {
    return (await this.load()).fetchRange(req, job);
  }

  /** Releases the real plugin's connections; nothing to do if it was never loaded. */
  override async close(): Promise<void> {
    const plugin = await this.#loading?.catch(() => undefined);
    await plugin?.close();
  }
}
