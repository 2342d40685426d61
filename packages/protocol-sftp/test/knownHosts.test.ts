// known_hosts parsing and matching, and fingerprints, against vectors made with OpenSSH's own tools
// (`ssh-keygen -l` for fingerprints, `ssh-keygen -H` for hashed names).
import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  entryMatchesHost,
  fingerprintOf,
  hostLookupName,
  keyTypeOf,
  knownKeyTypes,
  matchPattern,
  normalizeFingerprint,
  parseKnownHosts,
} from '../src/index.js';

const ED = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICmIKPZOhJ+8BdQ5rUm6dhoBZNEt7BXDFZDZ37a6FJ7T';
const ED_FP = 'SHA256:3orpbXwcIiiFobH1YQ/zZHw47DJuEJNhiJOe5IrRvcw';
const RSA =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC9wv6uwJ3hBS28Vk6U9kI0D4/N0GNdYFRBg+AGSXc1mi699aYelbg1H2mCkhBGGKz5QwElZa24mibYuUCHyf3y5fDjuuU3VZ4iF6mRETc0zn8OjpWj39lkKs9LlYkD8KQTun47m7GxTEgVAEiRvZKaYbFk9PsQe0lHb7TlUltckQ==';
const RSA_FP = 'SHA256:l/piiqVIiW4sPzmBYJJu4gb6cn6JJ0z6wKFv6vm4yQ8';
/** `ssh-keygen -H` of `[127.0.0.1]:2222 ED` and of `example.com ED`. */
const HASHED_PORT = `|1|7DK+p379s28lf0hb0dSlr28z36Y=|i4+RCi48+RYe3OvGMSt2AUQDd70= ${ED}`;
const HASHED_22 = `|1|GpkwAQeS0LcnXRf1LpyRYZ9fFy8=|qxUJG8U0a753dPgVfYLRq3++elM= ${ED}`;

const blob = (line: string): Buffer => Buffer.from(line.split(' ')[1]!, 'base64');
const ed = blob(ED);
const rsa = blob(RSA);
/** Another ed25519 key (the same blob with the last byte changed). */
const otherEd = Buffer.from(ed);
otherEd[otherEd.length - 1] = otherEd[otherEd.length - 1]! ^ 1;

describe('fingerprints and key types', () => {
  it('formats SHA256 fingerprints exactly as ssh-keygen -l', () => {
    expect(fingerprintOf(ed)).toBe(ED_FP);
    expect(fingerprintOf(rsa)).toBe(RSA_FP);
  });

  it('normalizes user-given fingerprints: prefix case, padding, no prefix', () => {
    expect(normalizeFingerprint(ED_FP)).toBe(ED_FP);
    expect(normalizeFingerprint(`sha256:${ED_FP.slice(7)}=`)).toBe(ED_FP);
    expect(normalizeFingerprint(`  ${ED_FP.slice(7)} `)).toBe(ED_FP);
    expect(normalizeFingerprint('MD5:12:34')).toBeUndefined();
    expect(normalizeFingerprint('SHA256:short')).toBeUndefined();
  });

  it('reads the key type from a blob and refuses garbage', () => {
    expect(keyTypeOf(ed)).toBe('ssh-ed25519');
    expect(keyTypeOf(rsa)).toBe('ssh-rsa');
    expect(keyTypeOf(Buffer.from([0, 0, 0, 200, 1]))).toBeUndefined();
    expect(keyTypeOf(Buffer.alloc(2))).toBeUndefined();
  });
});

describe('parseKnownHosts', () => {
  it('reads plain, listed, bracketed, hashed and marked lines; skips comments and blanks', () => {
    const text = [
      '# a comment',
      '',
      `example.com,192.0.2.1 ${ED} a comment after the key`,
      `[files.example.com]:2222 ${RSA}`,
      HASHED_PORT,
      `@revoked * ${RSA}`,
      `@cert-authority *.example.com ${ED}`,
      '   ',
    ].join('\n');
    const { entries, problems } = parseKnownHosts(text, '/home/u/.ssh/known_hosts');
    expect(problems).toEqual([]);
    expect(entries.map((e) => [e.line, e.marker, e.patterns, e.keyType])).toEqual([
      [3, undefined, ['example.com', '192.0.2.1'], 'ssh-ed25519'],
      [4, undefined, ['[files.example.com]:2222'], 'ssh-rsa'],
      [5, undefined, undefined, 'ssh-ed25519'],
      [6, 'revoked', ['*'], 'ssh-rsa'],
      [7, 'cert-authority', ['*.example.com'], 'ssh-ed25519'],
    ]);
    expect(entries[2]?.hashed?.hash.length).toBe(20);
    expect(entries[0]?.key.equals(ed)).toBe(true);
    expect(entries[0]?.file).toBe('/home/u/.ssh/known_hosts');
  });

  it('skips malformed lines and says why, without their text', () => {
    const text = [
      'onlyhost',
      `@bogus host ${ED}`,
      'host ssh-ed25519 not*base64',
      `host ssh-rsa ${ED.split(' ')[1]}`,
      'host 1024 35 12345',
      `|1|abc|def ${ED}`,
      `host ${ED}`,
    ].join('\r\n');
    const { entries, problems } = parseKnownHosts(text, 'kh');
    expect(entries).toHaveLength(1);
    expect(entries[0]?.line).toBe(7);
    expect(problems.map((p) => p.line)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(problems.map((p) => p.reason)).toEqual([
      'too few fields',
      'unknown marker @bogus',
      'the key is not base64',
      'the key is not a ssh-rsa key',
      'an SSH-1 key',
      'a malformed hashed host name',
    ]);
  });
});

describe('host matching', () => {
  it('looks up host for port 22 and [host]:port otherwise, lower-cased, IPv6 unbracketed', () => {
    expect(hostLookupName('Example.COM', 22)).toBe('example.com');
    expect(hostLookupName('example.com', 2222)).toBe('[example.com]:2222');
    expect(hostLookupName('[::1]', 22)).toBe('::1');
    expect(hostLookupName('::1', 2200)).toBe('[::1]:2200');
  });

  it('matches wildcards like OpenSSH', () => {
    expect(matchPattern('*.example.com', 'a.b.example.com')).toBe(true);
    expect(matchPattern('*.example.com', 'example.com')).toBe(false);
    expect(matchPattern('192.0.2.?', '192.0.2.7')).toBe(true);
    expect(matchPattern('192.0.2.?', '192.0.2.17')).toBe(false);
    expect(matchPattern('[*]:2222', '[h]:2222')).toBe(true);
    expect(matchPattern('*', '')).toBe(true);
    expect(matchPattern('a*b*c', 'aXXbYYc')).toBe(true);
    expect(matchPattern('a*b*c', 'aXXbYY')).toBe(false);
  });

  it('honours negation in a pattern list', () => {
    const [entry] = parseKnownHosts(`*.example.com,!bad.example.com ${ED}`).entries;
    expect(entryMatchesHost(entry!, 'good.example.com')).toBe(true);
    expect(entryMatchesHost(entry!, 'bad.example.com')).toBe(false);
    const [onlyNegative] = parseKnownHosts(`!bad.example.com ${ED}`).entries;
    expect(entryMatchesHost(onlyNegative!, 'good.example.com')).toBe(false);
  });

  it('matches hashed names made by ssh-keygen -H, with and without a port', () => {
    const [port] = parseKnownHosts(HASHED_PORT).entries;
    expect(entryMatchesHost(port!, hostLookupName('127.0.0.1', 2222))).toBe(true);
    expect(entryMatchesHost(port!, hostLookupName('127.0.0.1', 22))).toBe(false);
    expect(entryMatchesHost(port!, hostLookupName('127.0.0.1', 2223))).toBe(false);
    const [plain] = parseKnownHosts(HASHED_22).entries;
    expect(entryMatchesHost(plain!, hostLookupName('EXAMPLE.com', 22))).toBe(true);
    expect(entryMatchesHost(plain!, hostLookupName('example.org', 22))).toBe(false);
  });

  it('never matches a plain name on another port', () => {
    const [entry] = parseKnownHosts(`example.com ${ED}`).entries;
    expect(entryMatchesHost(entry!, hostLookupName('example.com', 22))).toBe(true);
    expect(entryMatchesHost(entry!, hostLookupName('example.com', 2222))).toBe(false);
  });
});

describe('checkHostKey', () => {
  const { entries } = parseKnownHosts(
    [`example.com ${ED}`, `[example.com]:2222 ${RSA}`, HASHED_PORT, `@revoked [revoked.example]:22,revoked.example ${ED}`, `revoked.example ${ED}`].join('\n'),
  );

  it('trusts the exact key, plain or hashed', () => {
    expect(checkHostKey(entries, 'example.com', 22, ed)).toMatchObject({ status: 'trusted', entry: { line: 1 } });
    expect(checkHostKey(entries, 'example.com', 2222, rsa)).toMatchObject({ status: 'trusted', entry: { line: 2 } });
    expect(checkHostKey(entries, '127.0.0.1', 2222, ed)).toMatchObject({ status: 'trusted', entry: { line: 3 } });
  });

  it('calls another key of a known type changed, and names the lines', () => {
    const check = checkHostKey(entries, 'example.com', 22, otherEd);
    expect(check.status).toBe('changed');
    expect(check.status === 'changed' && check.entries.map((e) => e.line)).toEqual([1]);
    expect(checkHostKey(entries, '127.0.0.1', 2222, otherEd).status).toBe('changed');
  });

  it('calls a key of a type not known for the host unknown, listing the known types', () => {
    expect(checkHostKey(entries, 'example.com', 2222, ed)).toEqual({ status: 'unknown', otherTypes: ['ssh-rsa'] });
    expect(checkHostKey(entries, 'new.example.com', 22, ed)).toEqual({ status: 'unknown', otherTypes: [] });
  });

  it('refuses a revoked key even when a plain line trusts it', () => {
    expect(checkHostKey(entries, 'revoked.example', 22, ed).status).toBe('revoked');
  });

  it('ignores @cert-authority lines', () => {
    const ca = parseKnownHosts(`@cert-authority *.example.com ${ED}`).entries;
    expect(checkHostKey(ca, 'a.example.com', 22, ed)).toEqual({ status: 'unknown', otherTypes: [] });
  });

  it('lists the key types known for a host, for algorithm negotiation', () => {
    expect(knownKeyTypes(entries, 'example.com', 22)).toEqual(['ssh-ed25519']);
    expect(knownKeyTypes(entries, 'example.com', 2222)).toEqual(['ssh-rsa']);
    expect(knownKeyTypes(entries, 'revoked.example', 22)).toEqual(['ssh-ed25519']);
    expect(knownKeyTypes(entries, 'nowhere', 22)).toEqual([]);
  });
});
