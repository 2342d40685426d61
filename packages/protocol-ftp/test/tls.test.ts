// FTPS against the test server: explicit (AUTH TLS) and implicit, certificate checks, and a
// required TLS that the server refuses (never a silent downgrade).
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget } from '@multiget/core';
import { generateContent, sha256, startFtpServer, type FtpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FtpPlugin, type FtpPluginOptions } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, rejection } from './helpers.js';

const SPEC = { size: 2 * 1024 * 1024 + 5, seed: 31 };
const BYTES = generateContent(SPEC);

let explicit: FtpTestServer;
let implicit: FtpTestServer;
let plain: FtpTestServer;
let dir: string;
const engines: Multiget[] = [];

beforeAll(async () => {
  [explicit, implicit, plain] = await Promise.all([
    startFtpServer({ tls: 'explicit', users: { carol: 'tls-only-pw' } }),
    startFtpServer({ tls: 'implicit' }),
    startFtpServer({ users: { carol: 'tls-only-pw' } }),
  ]);
  for (const s of [explicit, implicit, plain]) s.addFile('/s.bin', SPEC);
});
afterAll(async () => {
  await Promise.all([explicit.close(), implicit.close(), plain.close()]);
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-ftps-'));
  for (const s of [explicit, implicit, plain]) {
    s.setFaults({});
    s.resetLog();
  }
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close()));
  await rm(dir, { recursive: true, force: true });
});

function engine(options: FtpPluginOptions): Multiget {
  const mg = new Multiget({ plugins: [new FtpPlugin(options)], minSplitSize: 256 * 1024, retry: { baseDelayMs: 10, maxDelayMs: 50 } });
  engines.push(mg);
  return mg;
}

async function hashOf(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('FTPS', () => {
  it('explicit: AUTH TLS before anything else, PBSZ 0 and PROT P, protected data connections', async () => {
    const mg = engine({ tls: 'explicit', ca: explicit.ca! });
    const result = await mg.download(explicit.url('/s.bin'), { dir, connections: 4 }).done;
    expect(await hashOf(result.file)).toBe(sha256(SPEC));
    const commands = explicit.commands();
    const first = commands.filter((c) => c.connectionId === commands[0]!.connectionId).map((c) => c.command);
    expect(first.slice(0, 2)).toEqual(['AUTH', 'USER']);
    expect(first).toContain('PBSZ');
    expect(commands.filter((c) => c.command === 'PROT').every((c) => c.argument === 'P')).toBe(true);
    expect(commands.filter((c) => c.command !== 'AUTH').every((c) => c.tls)).toBe(true);
    expect(explicit.transfers().length).toBeGreaterThan(1);
    expect(explicit.transfers().every((t) => t.tls)).toBe(true);
  });

  it('implicit: ftps:// speaks TLS from the first byte', async () => {
    const mg = engine({ ca: implicit.ca! });
    expect(implicit.url('/s.bin')).toMatch(/^ftps:/);
    const result = await mg.download(implicit.url('/s.bin'), { dir, connections: 4 }).done;
    expect(await hashOf(result.file)).toBe(sha256(SPEC));
    expect(implicit.commands().every((c) => c.tls)).toBe(true);
    expect(implicit.transfers().every((t) => t.tls)).toBe(true);
  });

  it('reuses TLS control connections across ranges', async () => {
    const ftp = new FtpPlugin({ tls: 'explicit', ca: explicit.ca! });
    try {
      const job = await probed(ftp, makeJob(explicit.url('/s.bin')));
      expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
      const range = await ftp.fetchRange(rangeOf(job, 1000, 200_000), job);
      expect((await readAll(range)).equals(BYTES.subarray(1000, 200_001))).toBe(true);
      expect(explicit.commands('AUTH')).toHaveLength(1);
    } finally {
      await ftp.close();
    }
  });

  it('fails with MG_ERR_TLS when the certificate is not trusted, explicit or implicit', async () => {
    const mg = engine({ tls: 'explicit' });
    await expect(mg.download(explicit.url('/s.bin'), { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_TLS' });
    // Credentials never went out: the connection stopped at the handshake.
    expect(explicit.commands('USER')).toHaveLength(0);
    const mg2 = engine({});
    await expect(mg2.download(implicit.url('/s.bin'), { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_TLS' });
  });

  it('skips verification only with `insecure`', async () => {
    const mg = engine({ tls: 'explicit', insecure: true });
    const result = await mg.download(explicit.url('/s.bin'), { dir }).done;
    expect(await hashOf(result.file)).toBe(sha256(SPEC));
  });

  it('fails with MG_ERR_TLS, sending no credentials, when TLS is required and the server has none', async () => {
    const mg = engine({ tls: 'explicit' });
    const url = plain.url('/s.bin', { username: 'carol', password: 'tls-only-pw' });
    const err = await rejection(mg.download(url, { dir }).done);
    expect(err).toMatchObject({ code: 'MG_ERR_TLS', ftpCode: 502, retryable: false });
    expect(plain.commands().map((c) => c.command)).toEqual(['AUTH']);
  });

  it('fails with MG_ERR_TLS when a TLS server refuses AUTH TLS by policy (534)', async () => {
    explicit.setFaults({ refuseAuthTls: true });
    const mg = engine({ tls: 'explicit', ca: explicit.ca! });
    await expect(mg.download(explicit.url('/s.bin'), { dir }).done).rejects.toMatchObject({ code: 'MG_ERR_TLS', ftpCode: 534 });
    expect(explicit.commands('USER')).toHaveLength(0);
  });

  it('fails with MG_ERR_TLS when implicit TLS meets a plain server', async () => {
    const mg = engine({ tls: 'implicit', ca: explicit.ca! });
    await expect(mg.download(plain.url('/s.bin'), { dir, connectTimeoutMs: 2000 }).done).rejects.toMatchObject({ code: 'MG_ERR_TLS' });
  });

  it("stays in clear text with tls: 'off', even against a server that offers TLS", async () => {
    const mg = engine({});
    const result = await mg.download(explicit.url('/s.bin'), { dir }).done;
    expect(await hashOf(result.file)).toBe(sha256(SPEC));
    expect(explicit.commands('AUTH')).toHaveLength(0);
    expect(explicit.transfers().every((t) => !t.tls)).toBe(true);
  });
});
