import { createHmac, timingSafeEqual } from 'node:crypto';
import { keyTypeOf } from './sshKey.js';

/** A marker in front of a known_hosts line. */
export type KnownHostMarker = 'revoked' | 'cert-authority';

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  /** The file it came from (as given to the parser). */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  /** `@revoked` or `@cert-authority`, or undefined for a plain line. */
  readonly marker: KnownHostMarker | undefined;
  /**
   * Host patterns of a plain (unhashed) line, lower-cased: names, `[name]:port`, wildcards `*` and
   * `?`, negations `!pattern`. Undefined for a hashed line.
   */
  readonly patterns: readonly string[] | undefined;
  /** Salt and HMAC-SHA1 of a hashed line (`|1|salt|hash`). */
  readonly hashed:
    | {
        /** The HMAC key. */
        readonly salt: Buffer;
        /** HMAC-SHA1 of the host name with the salt. */
        readonly hash: Buffer;
      }
    | undefined;
  /** Key type as written on the line (`ssh-ed25519`, `ssh-rsa` ...). */
  readonly keyType: string;
  /** The public key blob. */
  readonly key: Buffer;
}

/** A line the parser skipped, and why (for diagnostics; the line's text is never kept). */
export interface KnownHostsProblem {
  /** The known_hosts file (as given). */
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
  /** What is wrong with the line. */
  readonly reason: string;
}

/** What {@link parseKnownHosts} found. */
export interface ParsedKnownHosts {
  /** The usable lines, in file order. */
  readonly entries: KnownHostEntry[];
  /** Lines that were skipped, and why (OpenSSH skips them too). */
  readonly problems: KnownHostsProblem[];
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Parses a known_hosts file in OpenSSH's format (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT").
 *
 * - Blank lines and `#` comments are skipped.
 * - `hosts keytype base64 [comment]`, where `hosts` is a comma-separated pattern list or one
 *   hashed name `|1|base64 salt|base64 HMAC-SHA1`.
 * - `@revoked` and `@cert-authority` markers are kept on the entry; unknown markers, malformed
 *   lines, SSH-1 lines and keys whose blob does not name the stated type are skipped and reported
 *   in `problems`.
 *
 * @param text - The file's contents.
 * @param file - A name for the file, kept on every entry for messages.
 */
export function parseKnownHosts(text: string, file = 'known_hosts'): ParsedKnownHosts {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const skip = (reason: string): void => void problems.push({ file, line, reason });
    const fields = raw.split(/\s+/);
    let marker: KnownHostMarker | undefined;
    if (fields[0]?.startsWith('@')) {
      const name = fields.shift()!.slice(1).toLowerCase();
      if (name !== 'revoked' && name !== 'cert-authority') {
        skip(`unknown marker @${name}`);
        continue;
      }
      marker = name;
    }
    const [hosts, keyType, encoded] = fields;
    if (hosts === undefined || keyType === undefined || encoded === undefined) {
      skip('too few fields');
      continue;
    }
    if (/^\d+$/.test(keyType)) {
      skip('an SSH-1 key');
      continue;
    }
    if (!BASE64.test(encoded)) {
      skip('the key is not base64');
      continue;
    }
    const key = Buffer.from(encoded, 'base64');
    if (keyTypeOf(key) !== keyType) {
      skip(`the key is not a ${keyType} key`);
      continue;
    }
    let patterns: string[] | undefined;
    let hashed: KnownHostEntry['hashed'];
    if (hosts.startsWith('|')) {
      const parts = hosts.split('|');
      if (parts.length !== 4 || parts[1] !== '1' || !BASE64.test(parts[2] ?? '') || !BASE64.test(parts[3] ?? '')) {
        skip('a malformed hashed host name');
        continue;
      }
      hashed = { salt: Buffer.from(parts[2]!, 'base64'), hash: Buffer.from(parts[3]!, 'base64') };
      if (hashed.hash.length !== 20) {
        skip('a malformed hashed host name');
        continue;
      }
    } else {
      patterns = hosts
        .toLowerCase()
        .split(',')
        .filter((p) => p !== '');
      if (patterns.length === 0) {
        skip('no host names');
        continue;
      }
    }
    entries.push({ file, line, marker, patterns, hashed, keyType, key });
  }
  return { entries, problems };
}

/**
 * The name OpenSSH looks up in known_hosts: the host for port 22, `[host]:port` for any other port.
 * IPv6 addresses are given without brackets (`::1`); names are lower-cased.
 */
export function hostLookupName(host: string, port: number): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const name = bare.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** OpenSSH's `match_pattern`: `*` matches any run of characters, `?` exactly one; case-insensitive. */
export function matchPattern(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const s = name.toLowerCase();
  // Iterative glob with backtracking to the last `*`: linear in practice, no regular expressions built from input.
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star !== -1) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/**
 * Whether a known_hosts entry names `lookupName` (see {@link hostLookupName}): a hashed entry when
 * the HMAC-SHA1 of the name with its salt is its hash; a pattern list when some pattern matches and
 * no negated pattern (`!pattern`) does.
 */
export function entryMatchesHost(entry: KnownHostEntry, lookupName: string): boolean {
  if (entry.hashed !== undefined) {
    const mac = createHmac('sha1', entry.hashed.salt).update(lookupName).digest();
    return mac.length === entry.hashed.hash.length && timingSafeEqual(mac, entry.hashed.hash);
  }
  let positive = false;
  for (const pattern of entry.patterns ?? []) {
    if (pattern.startsWith('!')) {
      if (matchPattern(pattern.slice(1), lookupName)) return false;
    } else if (matchPattern(pattern, lookupName)) {
      positive = true;
    }
  }
  return positive;
}

/** The verdict on a host key; see {@link checkHostKey}. */
export type HostKeyCheck =
  /** A plain line for this host holds exactly this key. */
  | {
      /** The key is trusted. */
      status: 'trusted';
      /** The line that holds it. */
      entry: KnownHostEntry;
    }
  /** An `@revoked` line for this host holds this key: never accept it. */
  | {
      /** The key is revoked. */
      status: 'revoked';
      /** The `@revoked` line. */
      entry: KnownHostEntry;
    }
  /** Lines for this host hold keys of this type, all different: the key changed (or someone is in the middle). */
  | {
      /** The host's key changed. */
      status: 'changed';
      /** The lines with the keys known before. */
      entries: KnownHostEntry[];
    }
  /** No line for this host holds a key of this type; `otherTypes` lists the types that are known for it. */
  | {
      /** The host (or this key type for it) is not known. */
      status: 'unknown';
      /** Key types known for the host (`ssh-ed25519`, ...), to tell the user. */
      otherTypes: string[];
    };

/**
 * Checks the key a server presented against known_hosts entries, as OpenSSH does with
 * `StrictHostKeyChecking yes`: revoked first, then an exact match, then a different key of the same
 * type (changed), else unknown. `@cert-authority` lines are ignored: host certificates are not used.
 *
 * @param entries - Parsed entries, possibly from several files (earlier files first).
 * @param host - Host name or address as in the URL (IPv6 with or without brackets).
 * @param port - The port connected to.
 * @param key - The public key blob the server presented.
 */
export function checkHostKey(entries: readonly KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyCheck {
  const name = hostLookupName(host, port);
  const type = keyTypeOf(key);
  const mine = entries.filter((e) => e.marker !== 'cert-authority' && entryMatchesHost(e, name));
  const revoked = mine.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked !== undefined) return { status: 'revoked', entry: revoked };
  const plain = mine.filter((e) => e.marker === undefined);
  const match = plain.find((e) => e.key.equals(key));
  if (match !== undefined) return { status: 'trusted', entry: match };
  const sameType = plain.filter((e) => e.keyType === type);
  if (sameType.length > 0) return { status: 'changed', entries: sameType };
  return { status: 'unknown', otherTypes: [...new Set(plain.map((e) => e.keyType))] };
}

/** Key types with a plain (not revoked) line for this host, in file order: the ones to ask the server for first. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const name = hostLookupName(host, port);
  const types: string[] = [];
  for (const e of entries) {
    if (e.marker === undefined && entryMatchesHost(e, name) && !types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}
