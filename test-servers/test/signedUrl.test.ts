// Signed links (`signed: true`, `signUrl`): accepted before their deadline, 403 after it, and
// never without a valid signature of the path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpTestServer, startHttpServer } from '../src/index.js';

let server: HttpTestServer;
beforeAll(async () => {
  server = await startHttpServer();
  server.addFile('/s.bin', { size: 1000, seed: 1 }, { signed: true });
  server.addFile('/t.bin', { size: 1000, seed: 2 }, { signed: true });
});
afterAll(async () => {
  await server.close();
});

async function status(url: string): Promise<number> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}

describe('signed links', () => {
  it('serves a signed link before its deadline', async () => {
    expect(await status(server.signUrl('/s.bin', Date.now() + 60_000))).toBe(200);
  });

  it('answers 403 after the deadline, without a signature, or with another path\'s signature', async () => {
    expect(await status(server.signUrl('/s.bin', Date.now() - 1))).toBe(403);
    expect(await status(server.url('/s.bin'))).toBe(403);
    const other = new URL(server.signUrl('/t.bin', Date.now() + 60_000));
    expect(await status(server.url(`/s.bin${other.search}`))).toBe(403);
    const forged = new URL(server.signUrl('/s.bin', Date.now() + 60_000));
    forged.searchParams.set('expires', String(Date.now() + 120_000));
    expect(await status(forged.href)).toBe(403);
  });
});
