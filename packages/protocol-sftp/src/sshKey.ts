import { createHash } from 'node:crypto';

/**
 * The key type named at the start of an SSH public key blob (`ssh-ed25519`, `ssh-rsa`,
 * `ecdsa-sha2-nistp256` ...), or undefined when the blob is malformed.
 */
export function keyTypeOf(blob: Uint8Array): string | undefined {
  if (blob.byteLength < 4) return undefined;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const length = view.getUint32(0);
  if (length === 0 || length > 64 || 4 + length > blob.byteLength) return undefined;
  const type = Buffer.from(blob.buffer, blob.byteOffset + 4, length).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

/**
 * The fingerprint OpenSSH prints for a public key blob (`ssh-keygen -l`, the "key fingerprint is"
 * line): `SHA256:` followed by the base64 SHA-256 of the blob without `=` padding.
 */
export function fingerprintOf(blob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The canonical form of a SHA256 fingerprint given by a user, or undefined when it is not one.
 * The `SHA256:` prefix is matched case-insensitively and may be left out; `=` padding is dropped.
 * The base64 part is case-sensitive, as OpenSSH prints it.
 */
export function normalizeFingerprint(text: string): string | undefined {
  const match = /^(?:sha256:)?([A-Za-z0-9+/]{43})=?$/i.exec(text.trim());
  if (match === null) return undefined;
  return `SHA256:${match[1]}`;
}

/**
 * The host key algorithms to offer for a key type, most preferred first. An RSA key is one key but
 * three signature algorithms.
 */
export function algorithmsForKeyType(type: string): string[] {
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}
