import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashFile, parseChecksum, strongestDigest } from '../src/util/checksum.js';

describe('parseChecksum', () => {
  it('accepts hex for each algorithm, case-insensitively', () => {
    const hex = 'A'.repeat(64);
    expect(parseChecksum(`sha256=${hex}`)).toEqual({ algorithm: 'sha256', hex: 'a'.repeat(64), source: 'user' });
    expect(parseChecksum(`SHA-512=${'0'.repeat(128)}`).algorithm).toBe('sha512');
    expect(parseChecksum(`sha1=${'0'.repeat(40)}`).algorithm).toBe('sha1');
    expect(parseChecksum(`md5=${'0'.repeat(32)}`).algorithm).toBe('md5');
  });

  it('accepts base64 of the right length', () => {
    const digest = createHash('sha256').update('x').digest();
    expect(parseChecksum(`sha256=${digest.toString('base64')}`).hex).toBe(digest.toString('hex'));
  });

  it.each(['sha256', 'crc32=abcd', 'sha256=abc', `sha256=${'g'.repeat(64)}`, '=abc'])(
    'rejects %j with MG_ERR_INVALID_CHECKSUM',
    (spec) => {
      expect(() => parseChecksum(spec)).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_CHECKSUM' }));
    },
  );
});

describe('strongestDigest', () => {
  it('prefers the stronger algorithm, then the caller at equal strength', () => {
    expect(
      strongestDigest([
        { algorithm: 'md5', hex: 'a', source: 'server' },
        { algorithm: 'sha256', hex: 'b', source: 'server' },
        { algorithm: 'sha256', hex: 'c', source: 'user' },
      ]),
    ).toEqual({ algorithm: 'sha256', hex: 'c', source: 'user' });
    expect(strongestDigest([])).toBeUndefined();
  });
});

describe('hashFile', () => {
  it('hashes a file larger than its read buffer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mg-hash-'));
    try {
      const data = Buffer.alloc(3 * 1024 * 1024 + 7, 7);
      await writeFile(join(dir, 'f'), data);
      expect(await hashFile(join(dir, 'f'), 'sha256')).toBe(createHash('sha256').update(data).digest('hex'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
