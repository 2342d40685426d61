import * as vscode from 'vscode';
import type { DownloadCredentials } from '@multiget/server/protocol';
import { credentialHost } from './model/url';
import { parseStoredCredentials } from './model/storedCredentials';

const KEY_PREFIX = 'multiget.credentials:';
/** The list of hosts with stored credentials, kept in SecretStorage too so nothing leaks to settings. */
const INDEX_KEY = 'multiget.credentials.hosts';

/**
 * Passwords and tokens per host, in VS Code's SecretStorage (the OS keychain) and nowhere else.
 * They are sent to the service with each `multiget/add`, which keeps them in memory only.
 */
export class CredentialStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** Credentials for the host of `url`, if stored. */
  async forUrl(url: string): Promise<DownloadCredentials | undefined> {
    const host = credentialHost(url);
    return host === undefined ? undefined : parseStoredCredentials(await this.secrets.get(KEY_PREFIX + host));
  }

  /** Stores credentials for `host` (already normalised with `normalizeHost`). */
  async set(host: string, credentials: DownloadCredentials): Promise<void> {
    await this.secrets.store(KEY_PREFIX + host, JSON.stringify(credentials));
    const hosts = new Set(await this.hosts());
    hosts.add(host);
    await this.secrets.store(INDEX_KEY, JSON.stringify([...hosts].sort()));
  }

  /** Forgets the credentials of `host`. */
  async delete(host: string): Promise<void> {
    await this.secrets.delete(KEY_PREFIX + host);
    const hosts = (await this.hosts()).filter((h) => h !== host);
    await this.secrets.store(INDEX_KEY, JSON.stringify(hosts));
  }

  /** Hosts that have credentials stored. */
  async hosts(): Promise<string[]> {
    try {
      const value: unknown = JSON.parse((await this.secrets.get(INDEX_KEY)) ?? '[]');
      return Array.isArray(value) ? value.filter((h): h is string => typeof h === 'string') : [];
    } catch {
      return [];
    }
  }
}
