// probe and fetchRange on their own, against the FTP test server: what goes over the control
// connection, and what a source yields.
import net from 'node:net';
import { generateContent, startFtpServer, type FileContent, type FtpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FtpPlugin } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, readSome, rejection, until } from './helpers.js';

const SPEC = { size: 3 * 1024 * 1024 + 17, seed: 7 };
const BYTES = generateContent(SPEC);

let server: FtpTestServer;
let ftp: FtpPlugin;
let counter = 0;

beforeAll(async () => {
  server = await startFtpServer({ users: { alice: 'pa:ss w0rd' } });
});
afterAll(async () => {
  await server.close();
});
let openedBefore = 0;
beforeEach(() => {
  ftp = new FtpPlugin();
  server.setFaults({});
  server.resetLog();
  openedBefore = server.connectionsOpened();
});

/** Control connections opened since the test started. */
const opened = (): number => server.connectionsOpened() - openedBefore;
afterEach(async () => {
  await ftp.close();
});

function serve(spec: FileContent = SPEC, faults: Parameters<FtpTestServer['addFile']>[2] = {}): string {
  const path = `/d${++counter}/file${counter}.bin`;
  server.addFile(path, spec, faults);
  return path;
}

describe('probe', () => {
  it('learns size, modification time, REST support and name, and opens the first stream', async () => {
    const path = serve();
    const job = await probed(ftp, makeJob(server.url(path)));
    const remote = job.remote!;
    expect(remote.size).toBe(SPEC.size);
    expect(remote.ranges).toBe(true);
    expect(remote.validators).toEqual({ size: SPEC.size, mtime: server.fileMtime(path).getTime() });
    expect(remote.fileName).toBe(`file${counter}.bin`);
    expect(remote.url.href).toBe(server.url(path));
    expect(remote.initialSource).toMatchObject({ start: 0, end: SPEC.size - 1 });
    expect((await readAll(remote.initialSource!)).equals(BYTES)).toBe(true);
    // Relative to the login directory, in binary mode, anonymous.
    expect(server.commands('RETR')[0]?.argument).toBe(path.slice(1));
    expect(server.commands('TYPE')[0]?.argument).toBe('I');
    expect(server.commands('USER')[0]?.argument).toBe('anonymous');
  });

  it('gives one stream of unknown length when the server has no SIZE', async () => {
    server.setFaults({ noSize: true });
    const path = serve();
    const job = await probed(ftp, makeJob(server.url(path)));
    expect(job.remote).toMatchObject({ size: undefined, ranges: false });
    expect(job.remote!.validators.size).toBeUndefined();
    expect(job.remote!.initialSource?.end).toBeUndefined();
    expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
  });

  it('detects from FEAT and REST 0 that a server cannot restart, and says ranges: false', async () => {
    server.setFaults({ refuseRest: 'all' });
    const path = serve();
    const job = await probed(ftp, makeJob(server.url(path)));
    expect(job.remote).toMatchObject({ size: SPEC.size, ranges: false });
    expect(server.commands('REST').map((c) => c.argument)).toEqual(['0']);
    job.remote!.initialSource!.cancel();
  });

  it('reports an empty file without opening a transfer', async () => {
    const path = serve({ size: 0 });
    const job = await probed(ftp, makeJob(server.url(path)));
    expect(job.remote).toMatchObject({ size: 0, ranges: true });
    expect(job.remote!.initialSource).toBeUndefined();
    expect(server.commands('RETR')).toHaveLength(0);
  });

  it('fails with MG_ERR_NOT_FOUND and ftpCode 550 for a missing file', async () => {
    const err = await rejection(ftp.probe(makeJob(server.url('/nope.bin'))));
    expect(err).toMatchObject({ code: 'MG_ERR_NOT_FOUND', ftpCode: 550, url: server.url('/nope.bin') });
  });

  it('logs in with credentials from the URL (percent-decoded) or the options', async () => {
    const path = serve();
    const fromUrl = await probed(ftp, makeJob(server.url(path, { username: 'alice', password: 'pa:ss w0rd' })));
    fromUrl.remote!.initialSource!.cancel();
    const fromOptions = await probed(ftp, makeJob(server.url(path), { credentials: { username: 'alice', password: 'pa:ss w0rd' } }));
    fromOptions.remote!.initialSource!.cancel();
    expect(server.commands('USER').map((c) => c.argument)).toEqual(['alice', 'alice']);
    expect(fromUrl.remote!.url.href).toBe(server.url(path));
  });

  it('fails with MG_ERR_AUTH (530) for a wrong password, without the secret in the error', async () => {
    const path = serve();
    const err = await rejection(ftp.probe(makeJob(server.url(path, { username: 'alice', password: 'not-it-9' }))));
    expect(err).toMatchObject({ code: 'MG_ERR_AUTH', ftpCode: 530, retryable: false });
    expect(JSON.stringify(err.toJSON())).not.toContain('not-it-9');
    expect(err.message).not.toContain('not-it-9');
  });

  it('fails with MG_ERR_SERVER_BUSY (421) when the server has no room, and retries later', async () => {
    server.setFaults({ maxConnections: 0 });
    const path = serve();
    const err = await rejection(ftp.probe(makeJob(server.url(path))));
    expect(err).toMatchObject({ code: 'MG_ERR_SERVER_BUSY', ftpCode: 421, retryable: true });
  });

  it('refuses a PASV reply that names another host (FTP bounce protection)', async () => {
    server.setFaults({ refuseEpsv: true, pasvAddress: '10.9.8.7' });
    const path = serve();
    const err = await rejection(ftp.probe(makeJob(server.url(path))));
    expect(err.code).toBe('MG_ERR_PROTOCOL');
    expect(err.message).toContain('10.9.8.7');
    expect(server.transfers()).toHaveLength(0);
  });

  it('uses PASV when EPSV is not implemented', async () => {
    server.setFaults({ refuseEpsv: true });
    const path = serve();
    const job = await probed(ftp, makeJob(server.url(path)));
    expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
    expect(server.commands('PASV').length).toBeGreaterThan(0);
  });

  it('stops at once when the job is aborted during the probe', async () => {
    const path = serve();
    const controller = new AbortController();
    const job = makeJob(server.url(path), {}, controller.signal);
    const pending = ftp.probe(job);
    controller.abort(new Error('stop'));
    expect((await rejection(pending)).code).toBe('MG_ERR_ABORTED');
  });
});

describe('fetchRange', () => {
  it('returns exactly the bytes of a middle range, then reuses the control connection', async () => {
    const path = serve();
    const job = await probed(ftp, makeJob(server.url(path)));
    expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
    expect(ftp.connections).toEqual({ open: 1, idle: 1 });
    const a = await ftp.fetchRange(rangeOf(job, 100_000, 1_300_000), job);
    expect(a).toMatchObject({ start: 100_000, end: 1_300_000 });
    expect((await readAll(a)).equals(BYTES.subarray(100_000, 1_300_001))).toBe(true);
    const b = await ftp.fetchRange(rangeOf(job, 2_000_000, 2_000_009), job);
    expect((await readAll(b)).equals(BYTES.subarray(2_000_000, 2_000_010))).toBe(true);
    const c = await ftp.fetchRange(rangeOf(job, SPEC.size - 5, undefined), job);
    expect((await readAll(c)).equals(BYTES.subarray(SPEC.size - 5))).toBe(true);
    // One login for the probe's stream and every range after it.
    expect(opened()).toBe(1);
    // The first range mid-file first makes sure the server honours REST (a RETR of the last byte).
    expect(server.commands('REST').map((r) => r.argument)).toEqual([String(SPEC.size - 1), '100000', '2000000', String(SPEC.size - 5)]);
    // Every RETR got its final reply before the next command: the control connection never fell out of step.
    for (const retr of server.commands('RETR')) expect(retr.replies[0]).toBe(150);
    expect(server.commands('RETR').every((r) => r.replies.length === 2)).toBe(true);
  });

  it('ends a transfer cut short cleanly when the reader stops early, and the connection serves the next range', async () => {
    const path = serve({ size: 8 * 1024 * 1024, seed: 8 }, { faults: { throttleBytesPerSec: 4 * 1024 * 1024 } });
    const bytes = generateContent({ size: 8 * 1024 * 1024, seed: 8 });
    const job = await probed(ftp, makeJob(server.url(path)));
    const first = await readSome(job.remote!.initialSource!, 64 * 1024);
    expect(first.equals(bytes.subarray(0, 64 * 1024))).toBe(true);
    const next = await ftp.fetchRange(rangeOf(job, 5_000_000, 5_000_999), job);
    expect((await readAll(next)).equals(bytes.subarray(5_000_000, 5_001_000))).toBe(true);
    expect(opened()).toBe(1);
    expect(server.transfers(path)[0]?.outcome).toBe('aborted');
    expect(server.commands('RETR')[0]?.replies).toEqual([150, 426]);
  });

  it('cancel() drops the transfer and the session returns to the pool once the server answered', async () => {
    const path = serve({ size: 8 * 1024 * 1024, seed: 9 }, { faults: { throttleBytesPerSec: 1024 * 1024 } });
    const job = await probed(ftp, makeJob(server.url(path)));
    job.remote!.initialSource!.cancel();
    job.remote!.initialSource!.cancel();
    await until(() => ftp.connections.idle === 1);
    expect(server.transfers(path)[0]?.outcome).toBe('aborted');
    const range = await ftp.fetchRange(rangeOf(job, 10, 19), job);
    expect((await readAll(range)).equals(generateContent({ size: 8 * 1024 * 1024, seed: 9 }, 10, 20))).toBe(true);
    expect(opened()).toBe(1);
  });

  it('fails with MG_ERR_REMOTE_CHANGED when SIZE or MDTM moved since the probe', async () => {
    const path = serve();
    const job = await probed(ftp, makeJob(server.url(path)));
    job.remote!.initialSource!.cancel();
    server.replaceFile(path, { size: SPEC.size, seed: 99 });
    const err = await rejection(ftp.fetchRange(rangeOf(job, 10, 100), job));
    expect(err.code).toBe('MG_ERR_REMOTE_CHANGED');
    expect(err.message).toMatch(/modified .*, was /);
    server.replaceFile(path, { size: SPEC.size + 1, seed: 100 });
    expect((await rejection(ftp.fetchRange(rangeOf(job, 10, 100), job))).message).toMatch(/size/);
  });

  it('notices a file replaced between the check and RETR, by checking again after the transfer', async () => {
    const path = serve(SPEC, { faults: { replaceAfterRequests: 1 } });
    const job = await probed(ftp, makeJob(server.url(path)));
    expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
    // The second RETR is served from the new version although the check before it saw the old one.
    const range = await ftp.fetchRange(rangeOf(job, 1000, 1999), job);
    const err = await rejection(readAll(range));
    expect(err.code).toBe('MG_ERR_REMOTE_CHANGED');
    expect(server.transfers(path)[1]?.faults).toContain('replaceAfterRequests');
  });

  it('throws MG_ERR_RANGE_IGNORED when REST is refused, keeping the ftpCode', async () => {
    server.setFaults({ refuseRest: 'nonzero' });
    const path = serve();
    const job = await probed(ftp, makeJob(server.url(path)));
    expect(job.remote!.ranges).toBe(true);
    job.remote!.initialSource!.cancel();
    const err = await rejection(ftp.fetchRange(rangeOf(job, 1024, 2047), job));
    expect(err).toMatchObject({ code: 'MG_ERR_RANGE_IGNORED', ftpCode: 504 });
  });

  it('refuses a range of a server that cannot restart, without asking it', async () => {
    server.setFaults({ refuseRest: 'all' });
    const path = serve();
    const job = await probed(ftp, makeJob(server.url(path)));
    job.remote!.initialSource!.cancel();
    server.resetLog();
    expect((await rejection(ftp.fetchRange(rangeOf(job, 5, 10), job))).code).toBe('MG_ERR_RANGE_IGNORED');
    expect(server.commands('REST')).toHaveLength(0);
  });

  it('reports a data connection cut mid-transfer as MG_ERR_SHORT_BODY with the 426', async () => {
    const path = serve(SPEC, { faults: { dropAfterBytes: 200_000, dropTimes: 1 } });
    const job = await probed(ftp, makeJob(server.url(path)));
    const chunks: Uint8Array[] = [];
    const err = await rejection(
      (async () => {
        for await (const chunk of job.remote!.initialSource!.body) chunks.push(chunk);
      })(),
    );
    expect(err).toMatchObject({ code: 'MG_ERR_SHORT_BODY', ftpCode: 426, retryable: true });
    // What arrived before the cut is good.
    expect(Buffer.concat(chunks).equals(BYTES.subarray(0, 200_000))).toBe(true);
    // The control connection stayed in step: the next range goes over it.
    const range = await ftp.fetchRange(rangeOf(job, 200_000, 200_099), job);
    expect((await readAll(range)).equals(BYTES.subarray(200_000, 200_100))).toBe(true);
    expect(opened()).toBe(1);
  });

  it('never ends a stream of unknown length without the 226: a cut is MG_ERR_CONNECTION_RESET', async () => {
    server.setFaults({ noSize: true });
    const path = serve(SPEC, { faults: { dropAfterBytes: 300_000, dropTimes: 1 } });
    const job = await probed(ftp, makeJob(server.url(path)));
    const err = await rejection(readAll(job.remote!.initialSource!));
    expect(err).toMatchObject({ code: 'MG_ERR_CONNECTION_RESET', ftpCode: 426 });
  });

  it('maps transient refusals of RETR to retryable codes', async () => {
    for (const [code, expected] of [
      [450, 'MG_ERR_SERVER_BUSY'],
      [451, 'MG_ERR_SERVER'],
      [425, 'MG_ERR_CONNECTION_RESET'],
      [421, 'MG_ERR_SERVER_BUSY'],
    ] as const) {
      const path = serve(SPEC, { faults: { failTimes: { count: 1, code } } });
      const err = await rejection(ftp.probe(makeJob(server.url(path))));
      expect(err).toMatchObject({ code: expected, ftpCode: code, retryable: true });
    }
  });

  it('passes a stall on to the engine as the signal reason', async () => {
    const path = serve(SPEC, { faults: { stallAfterBytes: 1000 } });
    const job = await probed(ftp, makeJob(server.url(path)));
    job.remote!.initialSource!.cancel();
    const controller = new AbortController();
    const range = await ftp.fetchRange(rangeOf(job, 0, SPEC.size - 1, controller.signal), job);
    const reading = rejection(readAll(range));
    await until(() => (server.transfers(path)[1]?.bytesSent ?? 0) >= 1000);
    const stalled = Object.assign(new Error('stalled'), { code: 'MG_ERR_STALLED' });
    controller.abort(stalled);
    expect((await reading).code).toBe('MG_ERR_STALLED');
  });
});

describe('timeouts', () => {
  it('fails with MG_ERR_CONNECT_TIMEOUT when a server accepts but never greets', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const err = await rejection(ftp.probe(makeJob(`ftp://127.0.0.1:${port}/f.bin`, { connectTimeoutMs: 200 })));
      expect(err).toMatchObject({ code: 'MG_ERR_CONNECT_TIMEOUT', retryable: true });
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('fails with MG_ERR_CONNECT when nothing listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as net.AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await rejection(ftp.probe(makeJob(`ftp://127.0.0.1:${port}/f.bin`)));
    expect(err).toMatchObject({ code: 'MG_ERR_CONNECT', errno: 'ECONNREFUSED' });
  });
});

describe('IPv6', () => {
  it('downloads from an IPv6 literal over EPSV', async () => {
    let v6: FtpTestServer;
    try {
      v6 = await startFtpServer({ host: '::1' });
    } catch {
      return; // No IPv6 loopback on this machine: nothing to check.
    }
    try {
      v6.addFile('/six.bin', SPEC);
      expect(v6.url('/six.bin')).toBe(`ftp://[::1]:${v6.port}/six.bin`);
      const job = await probed(ftp, makeJob(v6.url('/six.bin')));
      expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
      expect(v6.commands('EPSV').length).toBeGreaterThan(0);
    } finally {
      await v6.close();
    }
  });
});
