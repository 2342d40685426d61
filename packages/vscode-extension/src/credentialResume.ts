import { ResumeRequest, type DownloadInfo } from '@multiget/server/protocol';
import type { CredentialStore } from './credentials';
import { describeRequestError } from './service/requests';
import type { ServiceConnection } from './service/ServiceConnection';

/** What {@link CredentialResumer} needs from the extension. */
export interface CredentialResumerDeps {
  connection: ServiceConnection;
  credentials: CredentialStore;
  /** The list after a resume (the service also notifies it). */
  changed: (download: DownloadInfo) => void;
  /** A held download whose host has no stored credentials: ask the user (once per download). */
  missing: (download: DownloadInfo) => void;
  log: (line: string) => void;
}

/**
 * Gives downloads their credentials back after the service restarted. The service keeps
 * credentials in memory only, so a download it restores that was added with some comes back
 * paused with `awaitingCredentials`; this takes the host's credentials from SecretStorage and
 * resumes it with them, before it ever sends a request without them (no 401, no manual Retry).
 * Every window that sees such a download may do it: resume is idempotent.
 */
export class CredentialResumer {
  readonly #busy = new Set<string>();
  readonly #asked = new Set<string>();

  constructor(private readonly deps: CredentialResumerDeps) {}

  /** Looks at downloads from a list or a change notification; resumes those held for credentials. */
  check(downloads: readonly DownloadInfo[]): void {
    for (const d of downloads) {
      if (d.awaitingCredentials !== true || this.#busy.has(d.id)) continue;
      this.#busy.add(d.id);
      void this.#resume(d).finally(() => this.#busy.delete(d.id));
    }
  }

  async #resume(d: DownloadInfo): Promise<void> {
    const credentials = await this.deps.credentials.forUrl(d.url);
    if (credentials === undefined) {
      if (!this.#asked.has(d.id)) {
        this.#asked.add(d.id);
        this.deps.missing(d);
      }
      return;
    }
    try {
      const { download } = await this.deps.connection.request(ResumeRequest.type, { id: d.id, credentials });
      this.deps.changed(download);
      this.deps.log(`Resumed ${d.url} with the stored credentials of its host after the service restarted.`);
    } catch (err) {
      this.deps.log(`Could not resume ${d.url} with its stored credentials: ${describeRequestError(err)}`);
    }
  }
}
