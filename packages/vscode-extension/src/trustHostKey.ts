import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DownloadInfo } from '@multiget/server/protocol';
import { hostKeyFingerprint } from './model/errorText';
import { appendKnownHost, scanHostKey } from './hostKeyScan';

/**
 * The known_hosts file the service reads and names in its advice: the service runs as this user on
 * this machine and is started without a `knownHosts` option, so the SFTP plugin's default applies.
 */
export function serviceKnownHostsFile(): string {
  return path.join(os.homedir(), '.ssh', 'known_hosts');
}

/**
 * "Trust This Host Key…" for an SFTP download (or folder listing) that failed with MG_ERR_HOST_KEY_UNKNOWN: fetches
 * the server's keys, keeps only the one whose fingerprint is exactly the one the download saw,
 * shows that fingerprint, and appends it to known_hosts only after the user confirms. Resolves
 * whether the key was added (the caller then retries).
 */
export async function trustHostKey(download: Pick<DownloadInfo, 'url' | 'error'>): Promise<boolean> {
  const fingerprint = download.error === null ? undefined : hostKeyFingerprint(download.error.message);
  let url: URL;
  try {
    url = new URL(download.url);
  } catch {
    return false;
  }
  if (fingerprint === undefined || url.protocol !== 'sftp:') {
    void vscode.window.showErrorMessage('Multiget: this failure names no SSH host key to trust.');
    return false;
  }
  const port = url.port === '' ? 22 : Number(url.port);
  const host = url.hostname;
  let key;
  try {
    key = await scanHostKey(host, port, fingerprint);
  } catch (err) {
    void vscode.window.showErrorMessage(
      `Multiget: could not read the host key of ${url.host} to trust it (${err instanceof Error ? err.message : String(err)}). ` +
        `Its fingerprint is ${fingerprint}; add its key to ${serviceKnownHostsFile()} yourself if that is the server's.`,
    );
    return false;
  }
  if (key === undefined) {
    void vscode.window.showErrorMessage(
      `Multiget: ${url.host} now presents no key with the fingerprint ${fingerprint} that the download saw; nothing was trusted.`,
    );
    return false;
  }
  const file = serviceKnownHostsFile();
  const trust = 'Trust and Retry';
  const choice = await vscode.window.showWarningMessage(
    `Trust the SSH host key of ${url.host}?`,
    {
      modal: true,
      detail:
        `${key.type} ${fingerprint}\n\n` +
        'Trust it only if this is the fingerprint of the server (ask its administrator, or compare with `ssh-keygen -lf` on the server). ' +
        `It is added to ${file}, which the Multiget service and OpenSSH read.`,
    },
    trust,
  );
  if (choice !== trust) return false;
  await appendKnownHost(file, host, port, key);
  return true;
}
