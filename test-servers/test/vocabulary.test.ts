// The shared fault vocabulary: the same fault, under the same name, on the HTTP, FTP and SFTP
// servers, and the counters every server reports the same way (bytes served).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateContent,
  startFtpServer,
  startHttpServer,
  startSftpServer,
  type FtpTestServer,
  type HttpTestServer,
  type SftpTestServer,
  type TransferFaults,
} from '../src/index.js';
import { RawFtp } from './ftpHelpers.js';
import { request, until } from './helpers.js';
import { openRead, readAt, readRange, sftpConnect, stat, type SftpSession } from './sftpHelpers.js';

const KiB = 1024;
const SPEC = { size: 200 * KiB, seed: 77 };
const BYTES = generateContent(SPEC);

let http: HttpTestServer;
let ftp: FtpTestServer;
let sftp: SftpTestServer;
let session: SftpSession;
let counter = 0;

beforeAll(async () => {
  [http, ftp, sftp] = await Promise.all([startHttpServer(), startFtpServer(), startSftpServer()]);
  session = await sftpConnect({ host: sftp.host, port: sftp.port, username: 'multiget', password: 'multiget' });
});
afterAll(async () => {
  session.end();
  await Promise.all([http.close(), ftp.close(), sftp.close()]);
});

/** The same file with the same faults on all three servers. */
function serveEverywhere(faults: TransferFaults): string {
  const path = `/v${++counter}.bin`;
  http.addFile(path, SPEC, { faults });
  ftp.addFile(path, SPEC, { faults });
  sftp.addFile(path, SPEC, { faults });
  return path;
}

async function ftpClient(): Promise<RawFtp> {
  const { client } = await RawFtp.connect(ftp.port);
  await client.login();
  return client;
}

describe('one fault vocabulary on HTTP, FTP and SFTP', () => {
  it('cutAfterBytes ends the first transfer early as though complete, then serves the whole file', async () => {
    const path = serveEverywhere({ cutAfterBytes: 50 * KiB });
    const cut = await request(http.url(path));
    // A chunked body that ends with its last chunk: complete as HTTP goes, short of the file.
    expect(cut.error).toBeUndefined();
    expect(cut.headers['content-length']).toBeUndefined();
    expect(cut.body.equals(BYTES.subarray(0, 50 * KiB))).toBe(true);
    expect((await request(http.url(path))).body.equals(BYTES)).toBe(true);

    const client = await ftpClient();
    try {
      const short = await client.retr(path.slice(1));
      expect(short.replies.map((r) => r.code)).toEqual([150, 226]);
      expect(short.data.equals(BYTES.subarray(0, 50 * KiB))).toBe(true);
      expect(ftp.transfers(path)[0]?.outcome).toBe('cut');
      expect((await client.retr(path.slice(1))).data.equals(BYTES)).toBe(true);
    } finally {
      client.close();
    }

    expect((await readRange(session.sftp, path, 0, SPEC.size)).equals(BYTES.subarray(0, 50 * KiB))).toBe(true);
    expect((await readRange(session.sftp, path, 0, SPEC.size)).equals(BYTES)).toBe(true);
  });

  it('wrongLength announces more bytes than there are, and the transfers end at the real end', async () => {
    const path = serveEverywhere({ wrongLength: 10 });
    const head = await request(http.url(path), { method: 'HEAD' });
    expect(head.headers['content-length']).toBe(String(SPEC.size + 10));
    const whole = await request(http.url(path));
    expect(whole.body.equals(BYTES)).toBe(true);
    expect(whole.error).toBeDefined();
    const tail = await request(http.url(path), { headers: { range: `bytes=${SPEC.size - 5}-` } });
    expect(tail.headers['content-range']).toBe(`bytes ${SPEC.size - 5}-${SPEC.size + 9}/${SPEC.size + 10}`);
    expect(tail.body.equals(BYTES.subarray(SPEC.size - 5))).toBe(true);

    const client = await ftpClient();
    try {
      expect((await client.send(`SIZE ${path.slice(1)}`)).lines[0]).toBe(`213 ${SPEC.size + 10}`);
      expect((await client.retr(path.slice(1))).data.equals(BYTES)).toBe(true);
    } finally {
      client.close();
    }

    const attrs = await stat(session.sftp, path);
    expect(attrs.ok && attrs.value.size).toBe(SPEC.size + 10);
    expect((await readRange(session.sftp, path, 0, SPEC.size + 10)).equals(BYTES)).toBe(true);
  });

  it('status and failTimes refuse requests with the code of the protocol', async () => {
    const path = `/s${++counter}.bin`;
    http.addFile(path, SPEC, { faults: { status: 404 } });
    ftp.addFile(path, SPEC, { faults: { status: 550 } });
    sftp.addFile(path, SPEC, { faults: { status: 3 } });
    expect((await request(http.url(path))).status).toBe(404);
    const client = await ftpClient();
    try {
      expect((await client.retr(path.slice(1))).replies.at(-1)?.code).toBe(550);
      ftp.setFileFaults(path, { failTimes: { count: 1, code: 450 } });
      expect((await client.retr(path.slice(1))).replies.at(-1)?.code).toBe(450);
      expect((await client.retr(path.slice(1))).data.equals(BYTES)).toBe(true);
    } finally {
      client.close();
    }
    const refused = await openRead(session.sftp, path);
    expect(refused.ok ? 0 : refused.code).toBe(3);
    sftp.setFaults(path, { failTimes: { count: 1, code: 4 } });
    const failed = await openRead(session.sftp, path);
    expect(failed.ok ? 0 : failed.code).toBe(4);
    expect((await readRange(session.sftp, path, 0, SPEC.size)).equals(BYTES)).toBe(true);
  });

  it('stallAfterBytes on SFTP: reads past the limit get no answer until the connection goes', async () => {
    const path = serveEverywhere({ stallAfterBytes: 30 * KiB });
    const stalled = await sftpConnect({ host: sftp.host, port: sftp.port, username: 'multiget', password: 'multiget' });
    try {
      const handle = await openRead(stalled.sftp, path);
      if (!handle.ok) throw new Error(handle.message);
      const first = await readAt(stalled.sftp, handle.value, 0, 32 * KiB);
      expect(first.ok && first.value.equals(BYTES.subarray(0, 30 * KiB))).toBe(true);
      let answered = false;
      void readAt(stalled.sftp, handle.value, 30 * KiB, 32 * KiB).then(() => (answered = true));
      await until(() => sftp.log('read').some((e) => e.path === path && e.offset === 30 * KiB));
      expect(answered).toBe(false);
    } finally {
      stalled.client.destroy();
    }
    // The next handle is served in full (stallTimes defaults to 1).
    expect((await readRange(session.sftp, path, 0, SPEC.size)).equals(BYTES)).toBe(true);
  });

  it('bytesServed counts the body bytes of a path the same way on every server', async () => {
    const path = serveEverywhere({});
    http.resetLog();
    ftp.resetLog();
    sftp.resetLog();
    await request(http.url(path), { headers: { range: 'bytes=1000-1999' } });
    const client = await ftpClient();
    try {
      await client.retr(path.slice(1), { offset: SPEC.size - 1000 });
    } finally {
      client.close();
    }
    await readRange(session.sftp, path, 0, 1000);
    expect([http.bytesServed(path), ftp.bytesServed(path), sftp.bytesServed(path)]).toEqual([1000, 1000, 1000]);
    expect(sftp.maxConcurrentTransfers(path)).toBe(1);
  });
});
