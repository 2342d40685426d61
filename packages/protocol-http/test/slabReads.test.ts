// Direct http:// connections read into slabs (core's connectSlabSocket): the bytes are exact through
// splits, cuts and keep-alive reuse, and every slab is freed as soon as the chunks it carried were
// written or dropped, rather than left to the garbage collector.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allAtOnce, Multiget, slabCounts } from '@multiget/core';
import { generateContent, sha256, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, rejection } from './helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
let server: HttpTestServer;
let dir: string;

beforeEach(async () => {
  server = await startHttpServer();
  dir = await mkdtemp(join(tmpdir(), 'mg-slabs-'));
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function engine(): Multiget {
  return new Multiget({ plugins: [new HttpPlugin({ useEnvProxy: false })], minSplitSize: 256 * KiB, connectionPolicy: allAtOnce, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
}

describe('slab reads on direct http:// connections', () => {
  it('exact bytes with connections split and reused; every slab freed once its chunks were written or dropped', async () => {
    const before = slabCounts();
    const mg = engine();
    const files = [24 * MiB + 5, 3 * MiB, 1];
    for (const [i, size] of files.entries()) server.addFile(`/f${i}.bin`, generateContent({ size, seed: 70 + i }));
    for (const [i, size] of files.entries()) {
      const result = await mg.download(server.url(`/f${i}.bin`), { dir, connections: 4 }).done;
      expect(sha256(await readFile(result.file))).toBe(sha256(generateContent({ size, seed: 70 + i })));
    }
    // Closing the engine closes the connections: the slabs they still read into go too.
    await mg.close();
    await new Promise((resolve) => setImmediate(resolve));
    const after = slabCounts();
    expect(after.started - before.started).toBeGreaterThan(0);
    expect(after.freed - before.freed).toBe(after.started - before.started);
  });

  it('exact bytes, and the slabs freed, when every body is cut and retried', async () => {
    const before = slabCounts();
    const mg = engine();
    const content = generateContent({ size: 6 * MiB, seed: 77 });
    server.addFile('/cut.bin', content, { faults: { dropAfterBytes: 700 * KiB } });
    const result = await mg.download(server.url('/cut.bin'), { dir, connections: 4, retries: 50 }).done;
    expect(sha256(await readFile(result.file))).toBe(sha256(content));
    await mg.close();
    await new Promise((resolve) => setImmediate(resolve));
    const after = slabCounts();
    expect(after.freed - before.freed).toBe(after.started - before.started);
  });
});

describe("the slab connection's connect", () => {
  it('fails with MG_ERR_CONNECT_TIMEOUT, after the job\'s connect timeout, when the TCP handshake never completes', async () => {
    // A listener in a process that blocks: the kernel completes two handshakes into its backlog of
    // one, and drops the SYNs of any connection after them, which then never connects.
    const child = spawn(
      process.execPath,
      ['-e', "const s=require('net').createServer(); s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{process.stdout.write(s.address().port+'\\n'); setTimeout(()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,20000),50)})"],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const fillers: net.Socket[] = [];
    const http = new HttpPlugin({ useEnvProxy: false });
    try {
      const port = Number(await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(String(d).trim()))));
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < 2; i++) {
        const filler = net.connect(port, '127.0.0.1');
        fillers.push(filler);
        await new Promise((resolve) => filler.once('connect', resolve));
      }
      const err = await rejection(http.probe(makeJob(`http://127.0.0.1:${port}/x`, { connectTimeoutMs: 300 })));
      expect(err.code).toBe('MG_ERR_CONNECT_TIMEOUT');
      expect(err.retryable).toBe(true);
    } finally {
      for (const f of fillers) f.destroy();
      child.kill('SIGKILL');
      await http.close();
    }
  });
});
