// `multiget serve --stdio` hosts the manager as a JSON-RPC service: a real client over real pipes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { CLI, cliEnv } from './helpers.js';

let server: HttpTestServer;
let dir: string;
beforeEach(async () => {
  server = await startHttpServer();
  dir = await mkdtemp(join(tmpdir(), 'mg-serve-'));
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

it('serve --stdio answers initialize and downloads what it is asked to', async () => {
  const content = { size: 3 * 1024 * 1024, seed: 5 };
  server.addFile('/served.bin', content);
  const child = spawn(process.execPath, [CLI, 'serve', '--stdio', '--state-dir', join(dir, 'state'), '--dir', join(dir, 'out')], {
    env: cliEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  rpc.listen();
  try {
    const init = await rpc.sendRequest<{ serverInfo?: { name: string } }>('initialize', { processId: null, rootUri: null, capabilities: {} });
    expect(init.serverInfo?.name).toMatch(/multiget/i);
    rpc.sendNotification('initialized', {});
    const finished = new Promise<{ id: string; file: string }>((resolve) => {
      rpc.onNotification('multiget/changed', (p: { download: { id: string; state: string; file: string } }) => {
        if (p.download.state === 'completed') resolve(p.download);
      });
    });
    const added = await rpc.sendRequest<{ id: string }>('multiget/add', { url: server.url('/served.bin') });
    const done = await finished;
    expect(done.id).toBe(added.id);
    expect(createHash('sha256').update(await readFile(done.file)).digest('hex')).toBe(sha256(content));
    await rpc.sendRequest('shutdown');
    rpc.sendNotification('exit');
    expect(await exited).toBe(0);
  } finally {
    rpc.dispose();
    child.kill('SIGKILL');
  }
});
