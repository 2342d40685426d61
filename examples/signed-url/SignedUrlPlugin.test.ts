// The example URL resolver passes the conformance battery (run with vitest) in front of the HTTP
// plugin, and signs again when the server answers 403 mid-download, keeping the bytes it has.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Multiget, hashFile } from '@multiget/core';
import { describeProtocolConformance } from '@multiget/core/testing';
import { HttpPlugin } from '@multiget/protocol-http';
import { sha256, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { SignedUrlPlugin, signature } from './SignedUrlPlugin.ts';

const SECRET = 'example-signing-secret';
const MiB = 1024 * 1024;

/** The plain URL of `path` on `server`: the plugin signs it (the server's host is in its list). */
function signedUrl(server: HttpTestServer, path: string): string {
  return server.url(path);
}

describeProtocolConformance('signed URLs in front of HTTP (example)', async () => {
  const server = await startHttpServer();
  let counter = 0;
  return {
    plugins: () => [new SignedUrlPlugin({ secret: SECRET, hosts: [new URL(server.origin).host] }), new HttpPlugin({ useEnvProxy: false })],
    serve(size) {
      const path = `/s${++counter}.bin`;
      server.addFile(path, { size, seed: counter });
      return {
        url: signedUrl(server, path),
        setFaults: (faults) => server.setFaults(path, faults),
        refuseRanges: () => server.setFaults(path, { refuseRanges: true }),
        replace: (next = size) => server.replaceFile(path, { size: next, seed: 1000 + counter }),
        sha256: () => sha256(server.fileContent(path)),
        bytesServed: () => server.bytesServed(path),
        maxConcurrentTransfers: () => server.maxConcurrentRequests(path),
      };
    },
    missingUrl: () => signedUrl(server, '/missing.bin'),
    close: () => server.close(),
  };
}, { runner: { describe, it, afterAll } });

describe('SignedUrlPlugin', () => {
  let server: HttpTestServer;
  let dir: string;
  let mg: Multiget;
  // A clock a second further on at every signature, so that each one is told apart by its exp.
  let now = Date.now();
  beforeAll(async () => {
    server = await startHttpServer();
    dir = await mkdtemp(join(tmpdir(), 'mg-signed-'));
    const signer = new SignedUrlPlugin({ secret: SECRET, hosts: [new URL(server.origin).host], clock: () => (now += 1000) });
    mg = new Multiget({ plugins: [signer, new HttpPlugin({ useEnvProxy: false })], minSplitSize: 256 * 1024, retry: { baseDelayMs: 10 } });
  });
  afterAll(async () => {
    await mg.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs every request, and signs again on a 403 mid-download, keeping its bytes', async () => {
    server.addFile('/big.bin', { size: 4 * MiB, seed: 7 }, { faults: { throttleBytesPerSec: 8 * MiB } });
    const dl = mg.download(signedUrl(server, '/big.bin'), { dir, connections: 4 });
    // Once the probe has read the file with the first signature, that signature "expires": the
    // next request is refused, once, while the probe's stream already writes bytes.
    dl.once('start', () => server.setFaults('/big.bin', { throttleBytesPerSec: 8 * MiB, failTimes: { count: 1, code: 403 } }));
    const result = await dl.done;
    assert.equal(await hashFile(result.file, 'sha256'), sha256({ size: 4 * MiB, seed: 7 }));
    assert.equal(result.restarts, 0);
    // What the download reports of its URL never shows a signature.
    assert.doesNotMatch(result.url, /sig=[0-9a-f]/);
    const requests = server.requests('/big.bin');
    for (const r of requests) {
      const query = new URL(r.path, server.origin).searchParams;
      assert.equal(query.get('sig'), signature(SECRET, '/big.bin', Number(query.get('exp'))), `a valid signature: ${r.path}`);
    }
    const refused = requests.findIndex((r) => r.status === 403);
    assert.ok(refused >= 0, 'a request was refused');
    const expOf = (path: string): number => Number(new URL(path, server.origin).searchParams.get('exp'));
    const refusedExp = expOf(requests[refused]!.path);
    assert.ok(requests.slice(refused + 1).some((r) => r.status === 206 && expOf(r.path) > refusedExp), 'later requests carry a new signature');
  });

  it('fails with MG_ERR_FORBIDDEN when the first, freshly signed request is refused', async () => {
    server.addFile('/locked.bin', { size: MiB, seed: 8 }, { faults: { status: 403 } });
    await assert.rejects(mg.download(signedUrl(server, '/locked.bin'), { dir }).done, { code: 'MG_ERR_FORBIDDEN' });
    const requests = server.requests('/locked.bin');
    assert.equal(requests.length, 1, 'a link refused before any byte is not an expired one: no second try');
    assert.match(requests[0]!.path, /[?&]sig=[0-9a-f]{64}/);
  });
});
