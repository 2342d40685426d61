import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintOfKey, keyWithFingerprint, knownHostsLine, knownHostsName, parseKeyscan } from '../src/model/knownHosts';

// A real ed25519 public key blob, as `ssh-keyscan` prints it.
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

describe('known_hosts helpers', () => {
  it('names a host as OpenSSH looks it up', () => {
    expect(knownHostsName('files.example', 22)).toBe('files.example');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(knownHostsName('[::1]', 2222)).toBe('[::1]:2222');
  });
  it('computes the SHA256 fingerprint OpenSSH prints', () => {
    const expected = `SHA256:${createHash('sha256').update(Buffer.from(ED25519, 'base64')).digest('base64').replace(/=+$/, '')}`;
    expect(fingerprintOfKey(ED25519)).toBe(expected);
    expect(fingerprintOfKey(ED25519)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
  it('reads ssh-keyscan output and picks only the key with the fingerprint the download saw', () => {
    const out = `# 127.0.0.1:2222 SSH-2.0-test\n[127.0.0.1]:2222 ssh-ed25519 ${ED25519}\n[127.0.0.1]:2222 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7\ngarbage line\n`;
    const keys = parseKeyscan(out);
    expect(keys.map((k) => k.type)).toEqual(['ssh-ed25519', 'ssh-rsa']);
    expect(keyWithFingerprint(keys, fingerprintOfKey(ED25519))?.type).toBe('ssh-ed25519');
    expect(keyWithFingerprint(keys, `SHA256:${'A'.repeat(43)}`)).toBeUndefined();
  });
  it('writes an unhashed known_hosts line', () => {
    expect(knownHostsLine('[127.0.0.1]:2222', { type: 'ssh-ed25519', key: ED25519 })).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${ED25519}\n`);
  });
});
