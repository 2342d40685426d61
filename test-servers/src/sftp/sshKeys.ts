import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import type { HostKeyInfo, SshKeyPair, SshKeyType } from './types.js';

const { utils } = ssh2;

/** `SHA256:` and the unpadded base64 SHA-256 of a public key blob, exactly as `ssh-keygen -l` prints it. */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The blob of an authorized_keys / known_hosts style line (`type base64 [comment]`). */
export function publicKeyBlob(line: string): Buffer {
  const parsed = utils.parseKey(line.trim());
  if (parsed instanceof Error) throw new Error(`not a public key: ${parsed.message}`);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined) throw new Error('not a public key');
  return key.getPublicSSH();
}

/**
 * Generates a key pair in OpenSSH formats, in memory. With a passphrase the private key is
 * encrypted as `ssh-keygen -N` would (aes256-ctr, bcrypt with few rounds: tests need speed, not strength).
 */
export function generateSshKeyPair(
  type: SshKeyType = 'ed25519',
  options: { passphrase?: string; comment?: string } = {},
): SshKeyPair {
  const common = {
    comment: options.comment ?? 'multiget-test',
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase, cipher: 'aes256-ctr', rounds: 4 }),
  };
  const pair =
    type === 'ed25519'
      ? utils.generateKeyPairSync('ed25519', common)
      : type === 'ecdsa'
        ? utils.generateKeyPairSync('ecdsa', { bits: 256, ...common })
        : utils.generateKeyPairSync('rsa', { bits: 2048, ...common });
  const publicKey = pair.public.trim();
  const blob = publicKeyBlob(publicKey);
  return {
    type: publicKey.split(' ')[0] ?? '',
    privateKey: pair.private,
    publicKey,
    blob,
    fingerprint: sshFingerprint(blob),
  };
}

/** The public facts of a key pair, for known_hosts lines and messages. */
export function hostKeyInfo(pair: Pick<SshKeyPair, 'type' | 'blob' | 'fingerprint'>): HostKeyInfo {
  return { type: pair.type, publicKey: `${pair.type} ${pair.blob.toString('base64')}`, fingerprint: pair.fingerprint };
}

/** `host` for port 22, `[host]:port` otherwise: the name OpenSSH looks up in known_hosts. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}
