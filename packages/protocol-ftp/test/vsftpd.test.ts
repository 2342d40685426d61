// Interoperability: the same downloads against a real vsftpd (Debian package `vsftpd`), started
// by the tests on a loopback port with a generated configuration, FTPS included. When vsftpd is
// not installed the suite fails with the command to install it: it is never skipped silently.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget } from '@multiget/core';
import { generateContent, sha256, startVsftpd, type VsftpdServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FtpPlugin, type FtpPluginOptions } from '../src/index.js';
import { abortMidway, makeJob, probed, rangeOf, readAll, rejection, until } from './helpers.js';

const MiB = 1024 * 1024;
const BIG = { size: 8 * MiB + 11, seed: 71 };
const SMALL = { size: 300_000, seed: 72 };
const SLOW = { size: 6 * MiB, seed: 73 };

let plain: VsftpdServer;
let explicit: VsftpdServer;
let implicit: VsftpdServer;
let slow: VsftpdServer;
let dir: string;
const engines: Multiget[] = [];

beforeAll(async () => {
  const files = { 'pub/big.bin': BIG, 'small.bin': SMALL, 'dir with space/ü.bin': SMALL };
  // Started one after another: a failure (vsftpd missing) leaves nothing running behind.
  plain = await startVsftpd({ files });
  explicit = await startVsftpd({ files, tls: 'explicit' });
  implicit = await startVsftpd({ files, tls: 'implicit' });
  // anon_max_rate paces every session, so a download can be stopped half-way.
  slow = await startVsftpd({ files: { 'slow.bin': SLOW, 'changing.bin': SLOW }, config: { anon_max_rate: String(2 * MiB) } });
}, 60_000);
afterAll(async () => {
  await Promise.all([plain?.close(), explicit?.close(), implicit?.close(), slow?.close()]);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-vsftpd-'));
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  await rm(dir, { recursive: true, force: true });
});

function engine(options: FtpPluginOptions = {}): Multiget {
  const mg = new Multiget({
    plugins: [new FtpPlugin(options)],
    minSplitSize: 256 * 1024,
    checkpointIntervalMs: 50,
    progressIntervalMs: 20,
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
  });
  engines.push(mg);
  return mg;
}

async function hashOf(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** Lines of vsftpd's protocol log that contain `text`. */
async function logLines(server: VsftpdServer, text: string): Promise<string[]> {
  return (await server.log()).split('\n').filter((line) => line.includes(text));
}

describe('vsftpd', () => {
  it('downloads with several connections, reusing each login for several segments', async () => {
    const mg = engine();
    const before = (await logLines(plain, 'OK LOGIN')).length;
    const result = await mg.download(plain.url('pub/big.bin'), { dir, connections: 4 }).done;
    expect(await hashOf(result.file)).toBe(sha256(BIG));
    expect(result.size).toBe(BIG.size);
    const logins = (await logLines(plain, 'OK LOGIN')).length - before;
    expect(logins).toBeGreaterThan(1);
    expect(logins).toBeLessThanOrEqual(4);
  });

  it('reads exact ranges and ends transfers cut short without losing step on the control connection', async () => {
    const ftp = new FtpPlugin();
    try {
      const bytes = generateContent(BIG);
      const job = await probed(ftp, makeJob(plain.url('pub/big.bin')));
      expect(job.remote).toMatchObject({ size: BIG.size, ranges: true });
      expect(job.remote!.validators.mtime).toEqual(expect.any(Number));
      job.remote!.initialSource!.cancel();
      for (const [start, end] of [
        [0, 9],
        [1_000_000, 3_000_000],
        [BIG.size - 100, BIG.size - 1],
        [5, 5],
      ] as const) {
        const source = await ftp.fetchRange(rangeOf(job, start, end), job);
        expect((await readAll(source)).equals(bytes.subarray(start, end + 1)), `${start}-${end}`).toBe(true);
      }
      expect(ftp.connections.open).toBeLessThanOrEqual(2);
    } finally {
      await ftp.close();
    }
  });

  it('percent-decodes paths with spaces and UTF-8', async () => {
    const mg = engine();
    const result = await mg.download(plain.url('dir%20with%20space/%C3%BC.bin'), { dir }).done;
    expect(await hashOf(result.file)).toBe(sha256(SMALL));
    expect(result.file).toBe(join(dir, 'ü.bin'));
  });

  it('fails with MG_ERR_NOT_FOUND (550) for a missing file', async () => {
    const mg = engine();
    await expect(mg.download(plain.url('nope.bin'), { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_NOT_FOUND', ftpCode: 550 });
  });

  it('fails with MG_ERR_AUTH (530) for a user other than anonymous, without the secret in the error', async () => {
    const mg = engine();
    const url = new URL(plain.url('small.bin'));
    url.username = 'someone';
    url.password = 'hunter2-secret';
    const err = await rejection(mg.download(url.href, { dir }).done);
    expect(err).toMatchObject({ code: 'MG_ERR_AUTH', ftpCode: 530 });
    expect(JSON.stringify(err.toJSON())).not.toContain('hunter2-secret');
  });

  it('resumes a download stopped by its signal', async () => {
    const mg = engine();
    const err = await abortMidway(mg, slow.url('slow.bin'), { dir, connections: 3 }, 2 * MiB);
    expect(err.code).toBe('MG_ERR_ABORTED');
    const result = await engine().download(slow.url('slow.bin'), { dir, connections: 3 }).done;
    expect(result.resumed).toBe(true);
    expect(await hashOf(result.file)).toBe(sha256(SLOW));
  });

  it('starts over when the file changed between runs', async () => {
    const path = join(slow.root, 'changing.bin');
    await abortMidway(engine(), slow.url('changing.bin'), { dir, connections: 2 }, MiB);
    const next = generateContent({ size: SLOW.size, seed: 99 });
    await writeFile(path, next);
    const later = new Date(Date.now() + 60_000);
    await utimes(path, later, later);
    const dl = engine().download(slow.url('changing.bin'), { dir, connections: 2 });
    const reasons: string[] = [];
    dl.on('restart', (r) => reasons.push(r.reason));
    const result = await dl.done;
    expect(result.resumed).toBe(false);
    expect(reasons.length).toBeGreaterThan(0);
    expect(await hashOf(result.file)).toBe(createHash('sha256').update(next).digest('hex'));
  });

  it('replaces a pooled control connection that vsftpd closed while it sat idle', async () => {
    const short = await startVsftpd({ files: { 'small.bin': SMALL }, config: { idle_session_timeout: '1' } });
    const ftp = new FtpPlugin();
    try {
      const bytes = generateContent(SMALL);
      const job = await probed(ftp, makeJob(short.url('small.bin')));
      expect((await readAll(job.remote!.initialSource!)).equals(bytes)).toBe(true);
      expect(ftp.connections.idle).toBe(1);
      // vsftpd says "421 Timeout." and hangs up after a second of idleness.
      await until(() => ftp.connections.open === 0);
      const range = await ftp.fetchRange(rangeOf(job, 10, 99), job);
      expect((await readAll(range)).equals(bytes.subarray(10, 100))).toBe(true);
    } finally {
      await ftp.close();
      await short.close();
    }
  });

  describe('FTPS', () => {
    it('explicit (AUTH TLS, session reuse on data connections as vsftpd requires)', async () => {
      const mg = engine({ tls: 'explicit', ca: explicit.ca! });
      const result = await mg.download(explicit.url('pub/big.bin'), { dir, connections: 4 }).done;
      expect(await hashOf(result.file)).toBe(sha256(BIG));
      expect((await logLines(explicit, '"AUTH TLS"')).length).toBeGreaterThan(0);
    });

    it('implicit (ftps://)', async () => {
      const mg = engine({ ca: implicit.ca! });
      expect(implicit.url('pub/big.bin')).toMatch(/^ftps:/);
      const result = await mg.download(implicit.url('pub/big.bin'), { dir, connections: 4 }).done;
      expect(await hashOf(result.file)).toBe(sha256(BIG));
    });

    it('fails with MG_ERR_TLS when the certificate is not trusted', async () => {
      await expect(engine({ tls: 'explicit' }).download(explicit.url('small.bin'), { dir }).done).rejects.toMatchObject({
        code: 'MG_ERR_TLS',
      });
      await expect(engine().download(implicit.url('small.bin'), { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_TLS' });
    });

    it('fails with MG_ERR_TLS when TLS is required and vsftpd has it off', async () => {
      const err = await rejection(engine({ tls: 'explicit' }).download(plain.url('small.bin'), { dir }).done);
      expect(err.code).toBe('MG_ERR_TLS');
      expect(err.ftpCode).toBeGreaterThanOrEqual(500);
    });

    it('is refused by vsftpd in clear text when it forces TLS (no silent downgrade on its side either)', async () => {
      const err = await rejection(engine().download(explicit.url('small.bin'), { dir }).done);
      expect(err).toMatchObject({ code: 'MG_ERR_AUTH', ftpCode: 530 });
    });
  });
});
