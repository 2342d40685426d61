import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, cliEnv, fileSha256 } from './helpers.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.dispose());

// Larger than what loopback sockets buffer: a body that was not read shows as bytes never sent.
const V1 = { size: 24 * 1024 * 1024 + 17, seed: 71 };
const V2 = { size: 24 * 1024 * 1024 + 17, seed: 72 };
const G = { size: 4 * 1024 * 1024 + 5, seed: 73 };

let server: HttpTestServer;
let dir: string;
/** One environment for every run: one state directory, so one content store. */
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  server = cleanup.server(await startHttpServer());
  server.addFile('/f.bin', V1);
  dir = await cleanup.tempDir();
  env = cliEnv();
});

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const r = await cleanup.run(['--no-color', ...args], { cwd: dir, env });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** Requests for the file since the last `resetLog` that were probes (the HTTP driver's probe asks for `bytes=0-`). */
function probes(path: string): number {
  return server.requests(path).filter((r) => r.headers['range'] === 'bytes=0-').length;
}

/** Bytes of the file's body the server sent since the last `resetLog`, over every request. */
function bodyBytesSent(): number {
  return server.requests('/f.bin').reduce((n, r) => n + r.bytesSent, 0);
}

describe('no download twice (the content store), through the executable', () => {
  it('copies a file it downloaded before instead of downloading it again, and says so; re-downloads when the server file changed', async () => {
    const first = await run(['-o', 'a.bin', server.url('/f.bin')]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('from cache');

    server.resetLog();
    const second = await run(['--json', '-o', 'b.bin', server.url('/f.bin')]);
    expect(second.code, second.stderr).toBe(0);
    const done = second.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; fromCache?: { path: string } }).find((e) => e.type === 'done');
    expect(done?.fromCache).toEqual({ path: join(dir, 'a.bin') });
    expect(await fileSha256(join(dir, 'b.bin'))).toBe(sha256(V1));
    // One request: the probe that checks the validators (the HTTP driver's probe is a GET), whose
    // body is dropped unread at the headers: no range request, and most of the file never sent.
    expect(server.requests('/f.bin').length).toBe(1);
    expect(bodyBytesSent()).toBeLessThan(V1.size / 2);

    const human = await run(['-o', 'c.bin', server.url('/f.bin')]);
    expect(human.code, human.stderr).toBe(0);
    // From a.bin, or from b.bin: a copy is recorded too, and the newest record comes first.
    expect(human.stderr).toMatch(new RegExp(`from cache: ${join(dir, '[ab]\\.bin')}`));

    server.replaceFile('/f.bin', V2);
    server.resetLog();
    const changed = await run(['-o', 'd.bin', server.url('/f.bin')]);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stderr).not.toContain('from cache');
    expect(bodyBytesSent()).toBeGreaterThanOrEqual(V2.size);
    expect(await fileSha256(join(dir, 'd.bin'))).toBe(sha256(V2));
  });

  it('does not use a stored file that was modified or deleted: downloads again', async () => {
    // d.bin is the stored copy of the current version: same size, other bytes.
    const bytes = await readFile(join(dir, 'd.bin'));
    bytes[12345] = bytes[12345]! ^ 0xff;
    await writeFile(join(dir, 'd.bin'), bytes);
    server.resetLog();
    const modified = await run(['-o', 'e.bin', server.url('/f.bin')]);
    expect(modified.code, modified.stderr).toBe(0);
    expect(modified.stderr).not.toContain('from cache');
    expect(bodyBytesSent()).toBeGreaterThanOrEqual(V2.size);
    expect(await fileSha256(join(dir, 'e.bin'))).toBe(sha256(V2));

    await rm(join(dir, 'e.bin'));
    server.resetLog();
    const deleted = await run(['-o', 'f.bin', server.url('/f.bin')]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stderr).not.toContain('from cache');
    expect(bodyBytesSent()).toBeGreaterThanOrEqual(V2.size);
  });

  it('does not probe a URL whose stored files are all gone: a download again makes the requests of a plain download', async () => {
    server.addFile('/g.bin', G);
    const first = await run(['-o', 'g1.bin', server.url('/g.bin')]);
    expect(first.code, first.stderr).toBe(0);
    await rm(join(dir, 'g1.bin'));
    server.resetLog();
    const again = await run(['-o', 'g2.bin', server.url('/g.bin')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('from cache');
    // The record's file is gone: it is forgotten without probing the URL, so the only probe (the
    // GET from byte 0 a download starts with) is the download's own, as with --no-cache.
    expect(probes('/g.bin')).toBe(1);
    server.resetLog();
    expect((await run(['--no-cache', '-o', 'g3.bin', server.url('/g.bin')])).code).toBe(0);
    expect(probes('/g.bin')).toBe(1);
  });

  it('--no-cache downloads although a good copy is stored; --checksum of the same URL is served after the probe, never a wrong one, and then from any URL without a request', async () => {
    server.resetLog();
    const fresh = await run(['--no-cache', '-o', 'g.bin', server.url('/f.bin')]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).not.toContain('from cache');
    expect(bodyBytesSent()).toBeGreaterThanOrEqual(V2.size);

    // f.bin was downloaded without --checksum: the same URL with its checksum is served after the
    // probe, as the copy hashes to it; a wrong checksum is never served.
    server.resetLog();
    const same = await run(['--checksum', `sha256=${sha256(V2)}`, '-o', 'h.bin', server.url('/f.bin')]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).toContain(`from cache: ${join(dir, 'f.bin')}`);
    expect(server.requests().length).toBe(1);
    expect(await fileSha256(join(dir, 'h.bin'))).toBe(sha256(V2));
    const wrong = await run(['--checksum', `sha256=${sha256(V1)}`, '-o', 'wrong.bin', server.url('/f.bin')]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).not.toContain('from cache');
    expect(wrong.stderr).toContain('MG_ERR_CHECKSUM_MISMATCH');

    // h.bin was proven against that checksum and is recorded with it: from another URL, no request.
    server.resetLog();
    const mirror = await run(['--checksum', `sha256=${sha256(V2)}`, '-o', 'i.bin', server.url('/elsewhere/f.bin')]);
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(mirror.stderr).toContain(`from cache: ${join(dir, 'h.bin')}`);
    expect(server.requests().length).toBe(0);
    expect(await fileSha256(join(dir, 'i.bin'))).toBe(sha256(V2));
  });

  it('never overwrites an existing -o file with a copy', async () => {
    await writeFile(join(dir, 'mine.bin'), 'mine');
    const r = await run(['-o', 'mine.bin', server.url('/f.bin')]);
    expect(r.code).toBe(7);
    expect(await readFile(join(dir, 'mine.bin'), 'utf8')).toBe('mine');
  });
});
