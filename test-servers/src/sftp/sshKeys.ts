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
  const generate = (): { private: string; public: string } =>
    type === 'ed25519'
      ? utils.generateKeyPairSync('ed25519', common)
      : type === 'ecdsa'
        ? utils.generateKeyPairSync('ecdsa', { bits: 256, ...common })
        : utils.generateKeyPairSync('rsa', { bits: 2048, ...common });
  // ssh2 writes some ed25519 keys one byte short (a 31-byte public key; about one key in several
  // hundred, as if a leading zero byte were dropped), and then neither half parses. Such a pair is drawn again; a pair is only returned once
  // both halves read back as the same key. Bounded: 8 bad draws in a row would be a different bug.
  for (let attempt = 1; ; attempt++) {
    const pair = generate();
    const publicKey = pair.public.trim();
    const parsedPublic = utils.parseKey(publicKey);
    const parsedPrivate = utils.parseKey(pair.private, options.passphrase);
    const consistent =
      !(parsedPublic instanceof Error) &&
      !(parsedPrivate instanceof Error) &&
      firstKey(parsedPrivate).getPublicSSH().equals(firstKey(parsedPublic).getPublicSSH());
    if (!consistent) {
      if (attempt < 8) continue;
      throw new Error(`ssh2 generated ${attempt} unreadable ${type} key pairs in a row`);
    }
    const blob = publicKeyBlob(publicKey);
    return {
      type: publicKey.split(' ')[0] ?? '',
      privateKey: pair.private,
      publicKey,
      blob,
      fingerprint: sshFingerprint(blob),
    };
  }
}

/** The one key of a parse result (ssh2 answers a list for files with several). */
function firstKey(parsed: ssh2.ParsedKey | ssh2.ParsedKey[]): ssh2.ParsedKey {
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined) throw new Error('no key in the parse result');
  return key;
}

/** The public facts of a key pair, for known_hosts lines and messages. */
export function hostKeyInfo(pair: Pick<SshKeyPair, 'type' | 'blob' | 'fingerprint'>): HostKeyInfo {
  return { type: pair.type, publicKey: `${pair.type} ${pair.blob.toString('base64')}`, fingerprint: pair.fingerprint };
}

/** `host` for port 22, `[host]:port` otherwise: the name OpenSSH looks up in known_hosts. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}
