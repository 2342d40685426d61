import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { keyWithFingerprint, knownHostsLine, knownHostsName, parseKeyscan, type ScannedKey } from './model/knownHosts';

/**
 * The key `host:port` presents whose fingerprint is exactly `fingerprint`, read with OpenSSH's
 * `ssh-keyscan` (no shell; bounded), or `undefined` when it presents no such key (a key that
 * differs from the one the failed download saw is never offered for trust).
 *
 * @throws Error when ssh-keyscan cannot be run or reaches nothing.
 */
export async function scanHostKey(host: string, port: number, fingerprint: string): Promise<ScannedKey | undefined> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile('ssh-keyscan', ['-T', '10', '-p', String(port), host.replace(/^\[|\]$/g, '')], { timeout: 20_000 }, (err, stdout) => {
      if (err !== null && stdout === '') reject(err);
      else resolve(stdout);
    });
  });
  return keyWithFingerprint(parseKeyscan(output), fingerprint);
}

/**
 * Appends the known_hosts line for `key` of `host:port` to `file`: never truncates, never follows
 * a symbolic link, creates the file 0600 (and its folder 0700) when missing, and starts a new line
 * when the file does not end with one.
 */
export async function appendKnownHost(file: string, host: string, port: number, key: ScannedKey): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  // O_NOFOLLOW is POSIX; on Windows the constant is absent and the flag is simply not set.
  const flags = fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0);
  const handle = await fs.open(file, flags, 0o600);
  try {
    const { size } = await handle.stat();
    const last = Buffer.alloc(1);
    if (size > 0) await handle.read(last, 0, 1, size - 1);
    const prefix = size > 0 && last.toString() !== '\n' ? '\n' : '';
    await handle.appendFile(prefix + knownHostsLine(knownHostsName(host, port), key));
  } finally {
    await handle.close();
  }
}
