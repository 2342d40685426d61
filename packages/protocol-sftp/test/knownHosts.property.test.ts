// Property-based tests of the known_hosts reader and the host key check: any file content is read
// without throwing (bad lines are reported, never trusted), and a line written for a host trusts
// exactly its key for exactly that host.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkHostKey, hostLookupName, parseKnownHosts } from '../src/knownHosts.js';

const TYPES = ['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp256'];

/** A public key blob as SSH writes it: the type as an SSH string, then key material. */
function blob(type: string, material: Uint8Array): Buffer {
  const name = Buffer.from(type, 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, material]);
}

const keyArb = fc.tuple(fc.constantFrom(...TYPES), fc.uint8Array({ minLength: 1, maxLength: 48 })).map(([type, m]) => ({ type, key: blob(type, m) }));
const hostArb = fc.oneof(
  fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){0,2}$/),
  fc.ipV4(),
  fc.constantFrom('::1', 'fe80::1'),
);
const portArb = fc.oneof(fc.constant(22), fc.integer({ min: 1, max: 65535 }));

const PIECES = ['@revoked', '@cert-authority', '@other', '|1|', '|', ',', '*', '?', '!', '[', ']:2222', ' ', '\t', '\n', '\r\n', '#', 'ssh-rsa', 'ssh-ed25519', '1024', 'AAAA', 'AAAAC3NzaC1lZDI1NTE5AAAAI', '==', 'host.example'];
const fileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 5 })), { maxLength: 60 }).map((p) => p.join('')),
);

describe('known_hosts (property)', () => {
  it('reads any content without throwing; every entry is well-formed, every other line a problem', () => {
    fc.assert(
      fc.property(fileText, (text) => {
        const { entries, problems } = parseKnownHosts(text, 'kh');
        const lines = text.split(/\r?\n/).length;
        expect(entries.length + problems.length).toBeLessThanOrEqual(lines);
        for (const e of entries) {
          expect(e.line).toBeGreaterThanOrEqual(1);
          expect(e.line).toBeLessThanOrEqual(lines);
          expect(e.key.readUInt32BE(0)).toBe(Buffer.byteLength(e.keyType, 'latin1'));
          expect(e.key.subarray(4, 4 + e.key.readUInt32BE(0)).toString('latin1')).toBe(e.keyType);
          expect((e.patterns === undefined) !== (e.hashed === undefined)).toBe(true);
          if (e.patterns) {
            expect(e.patterns.length).toBeGreaterThan(0);
            for (const p of e.patterns) {
              expect(p).not.toBe('');
              expect(p).toBe(p.toLowerCase());
              expect(p).not.toContain(',');
            }
          }
          if (e.hashed) expect(e.hashed.hash.length).toBe(20);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('checks any key against any parsed file without throwing', () => {
    fc.assert(
      fc.property(fileText, hostArb, portArb, keyArb, (text, host, port, { key }) => {
        const verdict = checkHostKey(parseKnownHosts(text).entries, host, port, key);
        expect(['trusted', 'revoked', 'changed', 'unknown']).toContain(verdict.status);
      }),
      { numRuns: 1000 },
    );
  });

  it('a line for a host trusts its key there, reports another key of the type as changed, and says nothing of other hosts', () => {
    fc.assert(
      fc.property(hostArb, portArb, keyArb, fc.uint8Array({ minLength: 1, maxLength: 48 }), fc.boolean(), (host, port, { type, key }, otherMaterial, hashed) => {
        const name = hostLookupName(host, port);
        let hosts = name;
        if (hashed) {
          const salt = Buffer.from('0123456789abcdef0123');
          hosts = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
        }
        const text = `# a comment\n\n${hosts} ${type} ${key.toString('base64')} comment here\n`;
        const { entries, problems } = parseKnownHosts(text);
        expect(problems).toEqual([]);
        expect(checkHostKey(entries, host, port, key).status).toBe('trusted');
        const other = blob(type, otherMaterial);
        if (!other.equals(key)) expect(checkHostKey(entries, host, port, other).status).toBe('changed');
        expect(checkHostKey(entries, `x${host}.invalid`, port, key).status).toBe('unknown');
      }),
      { numRuns: 500 },
    );
  });

  it('an @revoked line wins over a plain line for the same key', () => {
    fc.assert(
      fc.property(hostArb, portArb, keyArb, (host, port, { type, key }) => {
        const name = hostLookupName(host, port);
        const line = `${name} ${type} ${key.toString('base64')}`;
        const { entries } = parseKnownHosts(`${line}\n@revoked ${line}\n`);
        expect(checkHostKey(entries, host, port, key).status).toBe('revoked');
      }),
      { numRuns: 300 },
    );
  });
});
