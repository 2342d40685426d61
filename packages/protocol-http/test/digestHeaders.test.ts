import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDigestHeaders } from '../src/index.js';

const body = Buffer.from('hello, multiget\n');
const hash = (algorithm: string): Buffer => createHash(algorithm).update(body).digest();
const sha256 = hash('sha256');
const sha512 = hash('sha512');
const sha1 = hash('sha1');
const md5 = hash('md5');

describe('parseDigestHeaders', () => {
  it('reads Repr-Digest sha-256 and sha-512 byte sequences, strongest first', () => {
    const digests = parseDigestHeaders({
      'repr-digest': `sha-256=:${sha256.toString('base64')}:, sha-512=:${sha512.toString('base64')}:`,
    });
    expect(digests).toEqual([
      { algorithm: 'sha512', hex: sha512.toString('hex'), source: 'server' },
      { algorithm: 'sha256', hex: sha256.toString('hex'), source: 'server' },
    ]);
  });

  it('ignores parameters, unknown algorithms and non-byte-sequence members of Repr-Digest', () => {
    const digests = parseDigestHeaders({
      'repr-digest': `unixsum=:AAAA:, sha-256=:${sha256.toString('base64')}:;x=1, sha-512=42`,
    });
    expect(digests).toEqual([{ algorithm: 'sha256', hex: sha256.toString('hex'), source: 'server' }]);
  });

  it('reads legacy Digest names case-insensitively, with base64 padding', () => {
    const digests = parseDigestHeaders({
      digest: `SHA-256=${sha256.toString('base64')}, MD5=${md5.toString('base64')}, sha=${sha1.toString('base64')}`,
    });
    expect(digests.map((d) => d.algorithm)).toEqual(['sha256', 'sha1', 'md5']);
    expect(digests[2]?.hex).toBe(md5.toString('hex'));
  });

  it('reads Content-MD5 only from a full 200 response', () => {
    const headers = { 'content-md5': md5.toString('base64') };
    expect(parseDigestHeaders(headers, 200)).toEqual([{ algorithm: 'md5', hex: md5.toString('hex'), source: 'server' }]);
    expect(parseDigestHeaders(headers, 206)).toEqual([]);
  });

  it('keeps Repr-Digest and Digest on a 206, since they describe the whole representation', () => {
    const digests = parseDigestHeaders(
      { 'repr-digest': `sha-256=:${sha256.toString('base64')}:`, digest: `MD5=${md5.toString('base64')}` },
      206,
    );
    expect(digests.map((d) => d.algorithm)).toEqual(['sha256', 'md5']);
  });

  it('accepts hex where base64 was due, when the length says which', () => {
    expect(parseDigestHeaders({ 'content-md5': md5.toString('hex').toUpperCase() })).toEqual([
      { algorithm: 'md5', hex: md5.toString('hex'), source: 'server' },
    ]);
  });

  it('drops values of the wrong length, broken base64 and duplicates', () => {
    const digests = parseDigestHeaders({
      'repr-digest': `sha-256=:${md5.toString('base64')}:`,
      digest: [`SHA-256=not*base64`, `SHA-512=${sha512.toString('base64')}`],
      'content-digest': `sha-512=:${sha512.toString('base64')}:`,
    });
    expect(digests).toEqual([{ algorithm: 'sha512', hex: sha512.toString('hex'), source: 'server' }]);
  });

  it('returns nothing when no digest header is present', () => {
    expect(parseDigestHeaders({ etag: '"x"' })).toEqual([]);
  });
});
