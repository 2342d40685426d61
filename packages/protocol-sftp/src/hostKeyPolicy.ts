import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { ErrorCodes, NetworkError, type DownloadError } from '@multiget/core';
import { checkHostKey, hostLookupName, knownKeyTypes, parseKnownHosts, type KnownHostEntry } from './knownHosts.js';
import { algorithmsForKeyType, fingerprintOf, keyTypeOf } from './sshKey.js';

/** Where trust in host keys comes from. */
export type TrustSource =
  /** Only keys with these SHA256 fingerprints (canonical form) are accepted; known_hosts is not read. */
  | { kind: 'fingerprint'; fingerprints: readonly string[] }
  /**
   * known_hosts files, earlier ones first. `hintFile` is where the "how to trust it" advice says to
   * add the key (the user's own file).
   */
  | { kind: 'knownHosts'; files: readonly string[]; hintFile: string };

/** The host key algorithms ssh2 supports, in its default order of preference. */
const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * The host key check for one connection: the known keys are loaded when it is created (files are
 * re-read for every connection, so a line added a moment ago counts), `verify` decides on the key
 * the server presents, and `failure` holds the error to report when it refused.
 */
export class HostKeyCheck {
  /** The error explaining why `verify` refused, once it did. */
  failure: DownloadError | undefined;
  /** Host key algorithms to offer: the types already known for this host first, as OpenSSH orders them. */
  readonly algorithms: string[];

  private constructor(
    private readonly trust: TrustSource,
    private readonly entries: readonly KnownHostEntry[],
    private readonly host: string,
    private readonly port: number,
    private readonly where: string,
  ) {
    const preferred = trust.kind === 'knownHosts' ? knownKeyTypes(entries, host, port).flatMap(algorithmsForKeyType) : [];
    this.algorithms = [...new Set([...preferred, ...DEFAULT_HOST_KEY_ALGORITHMS])].filter((a) =>
      DEFAULT_HOST_KEY_ALGORITHMS.includes(a),
    );
  }

  /**
   * Loads what is needed to judge the host's key. Missing or unreadable known_hosts files count as
   * empty (as in OpenSSH).
   *
   * @param where - `user@host:port` or similar, for messages (no secrets).
   */
  static async load(trust: TrustSource, host: string, port: number, where: string): Promise<HostKeyCheck> {
    const entries: KnownHostEntry[] = [];
    if (trust.kind === 'knownHosts') {
      for (const file of trust.files) {
        const text = await readFile(file, 'utf8').catch(() => undefined);
        if (text !== undefined) entries.push(...parseKnownHosts(text, file).entries);
      }
    }
    return new HostKeyCheck(trust, entries, host, port, where);
  }

  /** Decides on the key blob the server presented; on refusal `failure` says why. Never trusts on first use. */
  verify(key: Buffer): boolean {
    const fingerprint = fingerprintOf(key);
    const type = keyTypeOf(key) ?? 'unknown';
    const name = hostLookupName(this.host, this.port);
    const details = { url: this.where };
    if (this.trust.kind === 'fingerprint') {
      if (this.trust.fingerprints.includes(fingerprint)) return true;
      this.failure = new NetworkError(
        ErrorCodes.HOST_KEY_CHANGED,
        `The host key of ${name} is ${type} ${fingerprint}, which is not the pinned fingerprint ` +
          `${this.trust.fingerprints.join(' or ')}. Refusing to connect: someone could be intercepting the connection, ` +
          'or the server was given a new key (then pin the new fingerprint after checking it).',
        details,
      );
      return false;
    }
    const check = checkHostKey(this.entries, this.host, this.port, key);
    switch (check.status) {
      case 'trusted':
        return true;
      case 'revoked':
        this.failure = new NetworkError(
          ErrorCodes.HOST_KEY_CHANGED,
          `The host key of ${name} (${type} ${fingerprint}) is marked @revoked in ` +
            `${displayPath(check.entry.file)}:${check.entry.line}. Refusing to connect.`,
          details,
        );
        return false;
      case 'changed': {
        const old = check.entries[0]!;
        this.failure = new NetworkError(
          ErrorCodes.HOST_KEY_CHANGED,
          `WARNING: THE HOST KEY OF ${name} HAS CHANGED! The server now presents ${type} ${fingerprint}, but ` +
            `${displayPath(old.file)}:${old.line} holds ${fingerprintOf(old.key)} for it. Someone could be eavesdropping ` +
            'on you right now (man-in-the-middle attack), or the host key has just been changed. Refusing to connect. ' +
            `If the change is expected, remove the old key with: ssh-keygen -R '${name}' -f ${displayPath(old.file)}`,
          details,
        );
        return false;
      }
      case 'unknown': {
        const others =
          check.otherTypes.length > 0
            ? ` (keys of other types are known for it: ${check.otherTypes.join(', ')}; a server that stopped offering them is suspicious)`
            : '';
        const shortType = type.replace(/^ssh-/, '').replace(/^ecdsa-sha2-.*/, 'ecdsa').replace(/^rsa-sha2-.*/, 'rsa');
        const keyscan = `ssh-keyscan ${this.port === 22 ? '' : `-p ${this.port} `}-t ${shortType} ${bareHost(this.host)}`;
        const files = this.trust.files.map(displayPath).join(', ');
        this.failure = new NetworkError(
          ErrorCodes.HOST_KEY_UNKNOWN,
          `The host key of ${name} is not known: the server presents ${type} ${fingerprint}, which is in none of ` +
            `${files}${others}. If that fingerprint is the server's (ask its administrator), trust it with ` +
            `\`${keyscan} >> ${displayPath(this.trust.hintFile)}\`, or pin it with --ssh-fingerprint ${fingerprint} ` +
            '(the `fingerprint` option).',
          details,
        );
        return false;
      }
    }
  }
}

/** Paths under the home directory are shown with `~`, as OpenSSH users read them. */
function displayPath(path: string): string {
  const home = homedir();
  return home !== '' && home !== '/' && path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
