import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateContent, startSftpServer } from '../src/index.js';
import type { SftpTestServer } from '../src/index.js';
import { openRead, readAt, readRange, sftpConnect, type SftpSession } from './sftpHelpers.js';

const KiB = 1024;
let server: SftpTestServer;
let session: SftpSession;
const spec = { size: 200 * KiB, seed: 3 };

beforeEach(async () => {
  server = await startSftpServer();
  session = await sftpConnect({ host: server.host, port: server.port, username: 'multiget', password: 'multiget' });
});
afterEach(async () => {
  session.end();
  await server.close();
});

describe('SFTP test server: faults', () => {
  it('dropAfterBytes answers up to the limit, then destroys the connection, the first N times', async () => {
    server.addFile('/d.bin', spec, { faults: { dropAfterBytes: 50 * KiB, dropTimes: 1 } });
    const closed = new Promise<void>((resolve) => session.client.once('close', () => resolve()));
    const got = await readRange(session.sftp, '/d.bin', 0, spec.size).catch((err: Error) => err);
    expect(got).toBeInstanceOf(Error);
    await closed;
    expect(server.bytesServed('/d.bin')).toBe(50 * KiB);
    expect(server.log('drop')).toHaveLength(1);
    // The second handle is not dropped.
    const again = await sftpConnect({ host: server.host, port: server.port, username: 'multiget', password: 'multiget' });
    try {
      const body = await readRange(again.sftp, '/d.bin', 0, spec.size);
      expect(body.equals(generateContent(spec))).toBe(true);
    } finally {
      again.end();
    }
  });

  it('cutAfterBytes ends one handle early with EOF, then serves normally', async () => {
    server.addFile('/e.bin', spec, { faults: { cutAfterBytes: 40 * KiB } });
    const short = await readRange(session.sftp, '/e.bin', 0, spec.size);
    expect(short.length).toBe(40 * KiB);
    expect(short.equals(generateContent(spec, 0, 40 * KiB))).toBe(true);
    const full = await readRange(session.sftp, '/e.bin', 0, spec.size);
    expect(full.length).toBe(spec.size);
    expect(server.log('read').some((e) => e.faults?.includes('cutAfterBytes') && e.status === 1)).toBe(true);
  });

  it('maxReadReply gives legal short reads', async () => {
    server.addFile('/s.bin', spec, { faults: { maxReadReply: 1000 } });
    const handle = await openRead(session.sftp, '/s.bin');
    if (!handle.ok) throw new Error(handle.message);
    const one = await readAt(session.sftp, handle.value, 5000, 30_000);
    expect(one.ok && one.value.equals(generateContent(spec, 5000, 6000))).toBe(true);
    const body = await readRange(session.sftp, '/s.bin', 0, spec.size);
    expect(body.equals(generateContent(spec))).toBe(true);
  });

  it('throttleBytesPerSec paces replies and keeps them in order', async () => {
    server.addFile('/t.bin', { size: 64 * KiB, seed: 1 }, { faults: { throttleBytesPerSec: 512 * KiB } });
    const body = await readRange(session.sftp, '/t.bin', 0, 64 * KiB, 8 * KiB);
    expect(body.equals(generateContent({ size: 64 * KiB, seed: 1 }))).toBe(true);
    expect(server.log('read').every((e) => e.faults?.includes('throttleBytesPerSec'))).toBe(true);
  });

  it('replaceAfterRequests replaces the content once, with a later mtime', async () => {
    server.addFile('/r.bin', spec, { faults: { replaceAfterRequests: 1 } });
    const first = await readRange(session.sftp, '/r.bin', 0, spec.size);
    const second = await readRange(session.sftp, '/r.bin', 0, spec.size);
    const third = await readRange(session.sftp, '/r.bin', 0, spec.size);
    expect(first.equals(generateContent(spec))).toBe(true);
    expect(second.equals(generateContent({ ...spec, seed: spec.seed + 1 }))).toBe(true);
    expect(third.equals(second)).toBe(true);
    expect(server.log('open').filter((e) => e.faults?.includes('replaceAfterRequests'))).toHaveLength(1);
  });

  it('status answers every open with that status', async () => {
    server.addFile('/o.bin', spec, { faults: { status: 4 } });
    const opened = await openRead(session.sftp, '/o.bin');
    expect(opened.ok ? 0 : opened.code).toBe(4);
    server.setFaults('/o.bin', {});
    expect((await openRead(session.sftp, '/o.bin')).ok).toBe(true);
  });

  it('rejects invalid faults', () => {
    server.addFile('/v.bin', spec);
    expect(() => server.setFaults('/v.bin', { throttleBytesPerSec: 0 })).toThrow(RangeError);
    expect(() => server.setFaults('/v.bin', { dropAfterBytes: -1 })).toThrow(RangeError);
    expect(() => server.setFaults('/v.bin', { maxReadReply: 0 })).toThrow(RangeError);
  });
});
