import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DownloadInfo } from '@multiget/server/protocol';
import { hostKeyFingerprint } from './model/errorText';
import { keyWithFingerprint, knownHostsLine, knownHostsName, parseKeyscan } from './model/knownHosts';

/**
 * The known_hosts file the service reads and names in its advice: the service runs as this user on
 * this machine and is started without a `knownHosts` option, so the SFTP plugin's default applies.
 */
export function serviceKnownHostsFile(): string {
  return path.join(os.homedir(), '.ssh', 'known_hosts');
}

function keyscan(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // No shell: host and port go to ssh-keyscan as plain arguments.
    execFile('ssh-keyscan', ['-T', '10', '-p', String(port), host], { timeout: 20_000 }, (err, stdout) => {
      if (err !== null && stdout === '') reject(err);
      else resolve(stdout);
    });
  });
}

/**
 * "Trust This Host Key…" for an SFTP download that failed with MG_ERR_HOST_KEY_UNKNOWN: fetches
 * the server's keys, keeps only the one whose fingerprint is exactly the one the download saw,
 * shows that fingerprint, and appends it to known_hosts only after the user confirms. Resolves
 * whether the key was added (the caller then retries).
 */
export async function trustHostKey(download: DownloadInfo): Promise<boolean> {
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
  let keys;
  try {
    keys = parseKeyscan(await keyscan(host.replace(/^\[|\]$/g, ''), port));
  } catch (err) {
    void vscode.window.showErrorMessage(
      `Multiget: could not read the host key of ${url.host} to trust it (${err instanceof Error ? err.message : String(err)}). ` +
        `Its fingerprint is ${fingerprint}; add its key to ${serviceKnownHostsFile()} yourself if that is the server's.`,
    );
    return false;
  }
  const key = keyWithFingerprint(keys, fingerprint);
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
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // Appends (never truncates); created 0600 when new, as OpenSSH keeps it.
  const handle = await fs.open(file, fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  try {
    const { size } = await handle.stat();
    const last = Buffer.alloc(1);
    if (size > 0) await handle.read(last, 0, 1, size - 1);
    const prefix = size > 0 && last.toString() !== '\n' ? '\n' : '';
    await handle.appendFile(prefix + knownHostsLine(knownHostsName(host, port), key));
  } finally {
    await handle.close();
  }
  return true;
}
