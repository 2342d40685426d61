import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findChecksum } from '../src/checksums/parseChecksumFile.js';
import { Multiget } from '../src/index.js';
import { MemoryPlugin } from './helpers/MemoryPlugin.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(128);

describe('findChecksum', () => {
  it('reads GNU text and binary lines, and the ./ prefix', () => {
    expect(findChecksum(`${B}  other.iso\n${A}  f.iso\n`, 'f.iso', 'sha256', false)?.hex).toBe(A);
    expect(findChecksum(`${A} *f.iso\n`, 'f.iso', 'sha256', false)?.hex).toBe(A);
    expect(findChecksum(`${A}  ./f.iso\r\n`, 'f.iso', 'sha256', false)?.hex).toBe(A);
  });

  it('reads BSD lines, whose algorithm is their own', () => {
    expect(findChecksum(`SHA512 (f.iso) = ${C}\n`, 'f.iso', 'sha256', false)).toEqual({ algorithm: 'sha512', hex: C });
    expect(findChecksum(`SHA256 (my file (1).iso) = ${A}\n`, 'my file (1).iso', 'sha256', false)?.hex).toBe(A);
  });

  it('matches names with spaces exactly, and GNU-escaped names', () => {
    const text = `${B}  my file.iso.part\n${A}  my file.iso\n`;
    expect(findChecksum(text, 'my file.iso', 'sha256', false)?.hex).toBe(A);
    expect(findChecksum(`\\${A}  back\\\\slash.iso\n`, 'back\\slash.iso', 'sha256', false)?.hex).toBe(A);
  });

  it('takes a bare hash only from a single-file form', () => {
    expect(findChecksum(`${A}\n`, 'f.iso', 'sha256', true)?.hex).toBe(A);
    expect(findChecksum(`${A}\n`, 'f.iso', 'sha256', false)).toBeUndefined();
    // One entry under another name: a single-file form speaks of its file whatever it calls it.
    expect(findChecksum(`${A}  renamed.iso\n`, 'f.iso', 'sha256', true)?.hex).toBe(A);
  });

  it('skips comments, names in other folders, and hashes of the wrong length', () => {
    expect(findChecksum(`# ${A}  f.iso\n${A}  sub/f.iso\n${'a'.repeat(63)}  f.iso\n`, 'f.iso', 'sha256', false)).toBeUndefined();
    expect(findChecksum(`${C}  f.iso\n`, 'f.iso', 'sha256', false)).toBeUndefined();
  });

  it('finds the entry among many', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `${createHash('sha256').update(String(i)).digest('hex')}  file-${i}.bin`);
    expect(findChecksum(lines.join('\n'), 'file-4321.bin', 'sha256', false)?.hex).toBe(createHash('sha256').update('4321').digest('hex'));
  });
});

describe("checksum: 'auto' on the engine", () => {
  let dir: string;
  let mem: MemoryPlugin;
  let mg: Multiget;
  const data = Buffer.from('the file itself\n'.repeat(1000));
  const good = createHash('sha256').update(data).digest('hex');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mg-sums-'));
    mem = new MemoryPlugin();
    mg = new Multiget({ plugins: [mem] });
  });
  afterEach(async () => {
    await mg.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prefers the single-file form to the folder SUMS, and says where the digest came from', async () => {
    mem.put('/d/f.bin', data);
    mem.put('/d/f.bin.sha256', Buffer.from(`${good}  f.bin\n`));
    mem.put('/d/SHA256SUMS', Buffer.from(`${B}  f.bin\n`));
    const result = await mg.download('mem://h/d/f.bin', { dir, checksum: 'auto' }).done;
    expect(result.verified).toBe(true);
    expect(result.checksum).toEqual({ algorithm: 'sha256', source: 'mem://h/d/f.bin.sha256' });
    expect(result.digest).toMatchObject({ source: 'file', url: 'mem://h/d/f.bin.sha256' });
  });

  it('goes on unverified with a warning when there is none', async () => {
    mem.put('/d/f.bin', data);
    const dl = mg.download('mem://h/d/f.bin', { dir, checksum: 'auto' });
    const warnings: string[] = [];
    dl.on('warning', (w) => warnings.push(w.code));
    const result = await dl.done;
    expect(result.verified).toBe(false);
    expect(result.checksum).toBeUndefined();
    expect(warnings).toEqual(['MG_WARN_NO_CHECKSUM_FILE']);
  });

  it('says so when the URL names no file to look beside', async () => {
    mem.put('/', data);
    const dl = mg.download('mem://h/', { dir, checksum: 'auto' });
    const warnings: string[] = [];
    dl.on('warning', (w) => warnings.push(w.code));
    expect((await dl.done).verified).toBe(false);
    expect(warnings).toEqual(['MG_WARN_NO_CHECKSUM_FILE']);
  });

  it('fails a mismatch with MG_ERR_CHECKSUM_MISMATCH and leaves nothing behind', async () => {
    mem.put('/d/f.bin', data);
    mem.put('/d/SHA512SUMS', Buffer.from(`SHA512 (f.bin) = ${C}\n`));
    await expect(mg.download('mem://h/d/f.bin', { dir, checksum: 'auto' }).done).rejects.toMatchObject({
      code: 'MG_ERR_CHECKSUM_MISMATCH',
      message: expect.stringContaining('mem://h/d/SHA512SUMS'),
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it('never reads more than the limit of a checksum file', async () => {
    mem.put('/d/f.bin', data);
    mem.put('/d/SHA256SUMS', Buffer.concat([Buffer.alloc(1024 * 1024, 0x20), Buffer.from(`\n${B}  f.bin\n`)]));
    const dl = mg.download('mem://h/d/f.bin', { dir, checksum: 'auto' });
    const warnings: string[] = [];
    dl.on('warning', (w) => warnings.push(w.code));
    expect((await dl.done).verified).toBe(false);
    expect(warnings).toEqual(['MG_WARN_CHECKSUM_FILE_TOO_LARGE', 'MG_WARN_NO_CHECKSUM_FILE']);
  });
});
