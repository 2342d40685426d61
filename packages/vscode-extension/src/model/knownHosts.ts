import { createHash } from 'node:crypto';

/** One host key as `ssh-keyscan` prints it: `NAME TYPE BASE64`. */
export interface ScannedKey {
  /** `host` for port 22, else `[host]:port`. */
  name: string;
  /** `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, ... */
  type: string;
  /** The key blob, base64. */
  key: string;
}

/** The name OpenSSH looks a host up by in known_hosts: `host` on port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return port === 22 ? bare : `[${bare}]:${port}`;
}

/** OpenSSH's SHA256 fingerprint of a base64 key blob: `SHA256:` and unpadded base64 of its digest. */
export function fingerprintOfKey(base64: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(base64, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** The key lines of `ssh-keyscan` output (comments and anything malformed skipped). */
export function parseKeyscan(output: string): ScannedKey[] {
  const keys: ScannedKey[] = [];
  for (const line of output.split(/\r?\n/)) {
    const m = /^(\S+)\s+((?:ssh|ecdsa|sk)-[\w@.-]+)\s+([A-Za-z0-9+/]+={0,2})\s*$/.exec(line.trim());
    if (m !== null) keys.push({ name: m[1]!, type: m[2]!, key: m[3]! });
  }
  return keys;
}

/**
 * The scanned key whose fingerprint is exactly `fingerprint` (the one the failed download saw), or
 * `undefined`: a key that differs is never trusted in its place.
 */
export function keyWithFingerprint(keys: readonly ScannedKey[], fingerprint: string): ScannedKey | undefined {
  return keys.find((k) => fingerprintOfKey(k.key) === fingerprint);
}

/** The known_hosts line for `key` under `name` (as OpenSSH writes it, unhashed). */
export function knownHostsLine(name: string, key: Pick<ScannedKey, 'type' | 'key'>): string {
  return `${name} ${key.type} ${key.key}\n`;
}
