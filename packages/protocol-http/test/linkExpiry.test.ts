// Expiring links (a signed URL past its deadline answers 403) and core's `refreshUrl` hook: the
// download continues with the bytes it has when a plugin hands a fresh link of the same file,
// stops with MG_ERR_LINK_EXPIRED (keeping its bytes) when none does, and never mixes two files.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Download, ErrorCodes, Multiget, type Plugin } from '@multiget/core';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;

let server: HttpTestServer;
let dir: string;
let counter = 0;
const engines: Multiget[] = [];

beforeAll(async () => {
  server = await startHttpServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-http-expiry-'));
});
afterEach(async () => {
  await Promise.all(engines.splice(0).map((mg) => mg.close()));
  await rm(dir, { recursive: true, force: true });
});

function engine(plugins: Plugin[] = []): Multiget {
  const mg = new Multiget({
    plugins: [new HttpPlugin({ useEnvProxy: false }), ...plugins],
    minSplitSize: 256 * KiB,
    checkpointIntervalMs: 20,
    progressIntervalMs: 20,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  });
  engines.push(mg);
  return mg;
}

/** Signed links live this long: enough for the probe, far less than the throttled download takes. */
const LINK_MS = 1500;

/**
 * A signed file, throttled and cut every 64 KiB, so that the connections keep asking again: once
 * the first link's deadline has passed, their next request is refused with 403.
 */
function serveSigned(size = 2 * MiB): { path: string; content: { size: number; seed: number } } {
  const path = `/x${++counter}.bin`;
  const content = { size, seed: counter };
  server.addFile(path, content, { signed: true, faults: { throttleBytesPerSec: 256 * KiB, dropAfterBytes: 64 * KiB } });
  return { path, content };
}

/** Waits until `dl` wrote bytes and the link's deadline has passed. */
async function afterDeadline(dl: Download, deadline: number): Promise<void> {
  await new Promise<void>((resolve) => dl.on('checkpoint', ({ bytesDone }) => bytesDone > 0 && resolve()));
  const left = deadline - Date.now();
  if (left > 0) await sleep(left + 10);
}

describe('expiring links', () => {
  it('without a refresh: stops with MG_ERR_LINK_EXPIRED and keeps its bytes; a fresh link of the same file resumes them', async () => {
    const f = serveSigned();
    const deadline = Date.now() + LINK_MS;
    const output = join(dir, 'x.bin');
    const dl = engine().download(server.signUrl(f.path, deadline), { output, connections: 2 });
    const failed = dl.done.catch((e: unknown) => e);
    await afterDeadline(dl, deadline);
    const err = await failed;
    expect(err).toMatchObject({ code: ErrorCodes.LINK_EXPIRED, retryable: false, statusCode: 403 });
    expect(dl.state).toBe('failed');
    expect((await readdir(dir)).sort()).toEqual(['x.bin.mgpart', 'x.bin.mgstate']);
    const kept = JSON.parse(await readFile(join(dir, 'x.bin.mgstate'), 'utf8')) as { segments: Array<[number, number, number]> };
    const keptBytes = kept.segments.reduce((n, [start, , pos]) => n + pos - start, 0);
    expect(keptBytes).toBeGreaterThan(0);

    // Another URL (a new signature), the same file, the same output: the bytes are reused.
    server.setFaults(f.path, {});
    const again = engine().download(server.signUrl(f.path, Date.now() + 60_000), { output, connections: 2 });
    let resumedBytes = 0;
    again.on('start', (info) => (resumedBytes = info.resumedBytes));
    let written = 0;
    again.on('rangeEnd', (e) => (written += e.bytes));
    const result = await again.done;
    expect(result.resumed).toBe(true);
    expect(sha256(await readFile(output))).toBe(sha256(f.content));
    expect(resumedBytes).toBeGreaterThan(0);
    expect(resumedBytes).toBeLessThanOrEqual(keptBytes);
    expect(written).toBe(f.content.size - resumedBytes);
    expect(await readdir(dir)).toEqual(['x.bin']);
  });

  it('with a plugin that re-signs the link: continues with the bytes it has and completes', async () => {
    const f = serveSigned();
    const deadline = Date.now() + LINK_MS;
    const asked: string[] = [];
    const resigner: Plugin = {
      name: 'Resigner',
      apply(host) {
        host.hooks.refreshUrl.tapPromise('Resigner', async (url, context) => {
          asked.push(context.reason);
          if (context.reason !== 'expired') return undefined;
          expect(context.error?.statusCode).toBe(403);
          // The rest comes fast, from a link that lives long enough.
          server.setFaults(f.path, {});
          return new URL(server.signUrl(f.path, Date.now() + 60_000));
        });
      },
    };
    const dl = engine([resigner]).download(server.signUrl(f.path, deadline), { dir, connections: 2 });
    const warnings: string[] = [];
    dl.on('warning', (w) => warnings.push(w.code));
    let restarts = 0;
    dl.on('restart', () => restarts++);
    let bytesWritten = 0;
    dl.on('rangeEnd', (e) => (bytesWritten += e.bytes));
    await afterDeadline(dl, deadline);
    const result = await dl.done;
    expect(sha256(await readFile(result.file))).toBe(sha256(f.content));
    expect(asked[0]).toBe('start');
    expect(asked).toContain('expired');
    expect(warnings).toContain('MG_WARN_URL_REFRESHED');
    expect(restarts).toBe(0);
    // No byte written twice: the bytes of the first link were kept.
    expect(bytesWritten).toBe(f.content.size);
    expect(server.requests(f.path).some((r) => r.status === 403)).toBe(true);
  });

  it('signs the link before the first request when a plugin does so at start', async () => {
    const path = `/x${++counter}.bin`;
    const content = { size: 512 * KiB, seed: counter };
    server.addFile(path, content, { signed: true });
    const signer: Plugin = {
      name: 'Signer',
      apply(host) {
        host.hooks.refreshUrl.tapPromise('Signer', async (url, context) =>
          context.reason === 'start' && !url.searchParams.has('sig') ? new URL(server.signUrl(url.pathname, Date.now() + 60_000)) : undefined,
        );
      },
    };
    const result = await engine([signer]).download(server.url(path), { dir }).done;
    expect(sha256(await readFile(result.file))).toBe(sha256(content));
    expect(server.requests(path).every((r) => r.status !== 403)).toBe(true);
  });

  it('a fresh link that serves another file fails with MG_ERR_REMOTE_CHANGED and never mixes the two', async () => {
    const f = serveSigned();
    const other = `/x${++counter}.bin`;
    server.addFile(other, { size: f.content.size, seed: counter }, { signed: true });
    const deadline = Date.now() + LINK_MS;
    const wrongLink: Plugin = {
      name: 'WrongLink',
      apply(host) {
        host.hooks.refreshUrl.tapPromise('WrongLink', async (_url, context) =>
          context.reason === 'expired' ? new URL(server.signUrl(other, Date.now() + 60_000)) : undefined,
        );
      },
    };
    const output = join(dir, 'y.bin');
    const dl = engine([wrongLink]).download(server.signUrl(f.path, deadline), { output, connections: 2 });
    const failed = dl.done.catch((e: unknown) => e);
    await afterDeadline(dl, deadline);
    expect(await failed).toMatchObject({ code: ErrorCodes.REMOTE_CHANGED });
    // No complete file, and no state that would let a later run continue the old bytes.
    const left = await readdir(dir);
    expect(left).not.toContain('y.bin');
    expect(left).not.toContain('y.bin.mgstate');
  });
});
