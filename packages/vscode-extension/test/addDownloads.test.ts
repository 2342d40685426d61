// How the extension adds what the user pasted: through the real bundled service (dist/server.mjs,
// spawned as the language client spawns it), whose downloads go to a server on 127.0.0.1 that
// accepts connections and never answers, so that they stay unfinished while the test looks at them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { DownloadInfo } from '@multiget/server/protocol';
import { addDownloads, type AddDeps } from '../src/addDownloads';
import type { DownloadRequest } from '../src/downloadUrl';

const BUNDLE = fileURLToPath(new URL('../dist/server.mjs', import.meta.url));

let dir: string;
let child: ChildProcess;
let rpc: MessageConnection;
let silent: Server;
const sockets = new Set<Socket>();
let origin: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-add-'));
  silent = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const address = silent.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  child = spawn(process.execPath, [BUNDLE, '--stdio', '--state-dir', join(dir, 'state'), '--dir', join(dir, 'dl')], { stdio: ['pipe', 'pipe', 'ignore'] });
  rpc = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  rpc.listen();
  await rpc.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
});

afterEach(async () => {
  rpc.dispose();
  child.kill('SIGKILL');
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

/** The extension's side, with the methods it sent (in order) and the downloads it put in its list. */
function deps(): { deps: AddDeps; methods: string[]; listed: DownloadInfo[] } {
  const methods: string[] = [];
  const listed: DownloadInfo[] = [];
  const connection = {
    request: async (type: { method: string }, params: unknown) => {
      methods.push(type.method);
      return await rpc.sendRequest(type.method, params);
    },
  };
  return {
    methods,
    listed,
    deps: {
      connection: connection as unknown as AddDeps['connection'],
      credentials: { forUrl: () => Promise.resolve(undefined) } as unknown as AddDeps['credentials'],
      store: { changed: (d: DownloadInfo) => listed.push(d) } as unknown as AddDeps['store'],
      defaultFolder: () => join(dir, 'dl'),
    },
  };
}

function paste(urls: string[]): DownloadRequest {
  return { urls, skipped: [] };
}

async function listedUrls(): Promise<string[]> {
  const { downloads } = await rpc.sendRequest<{ downloads: DownloadInfo[] }>('multiget/list', {});
  return downloads.map((d) => d.url);
}

it('adds a paste of several URLs with one multiget/addMany, in the order pasted', async () => {
  const urls = Array.from({ length: 30 }, (_, i) => `${origin}/f-${i}.bin`);
  const { deps: d, methods } = deps();
  const outcome = await addDownloads(d, paste(urls));
  expect(methods).toEqual(['multiget/addMany']);
  expect(outcome.refused).toEqual([]);
  expect(outcome.ids).toHaveLength(30);
  expect(new Set(outcome.ids).size).toBe(30);
  expect(await listedUrls()).toEqual(urls);
});

it('adds one URL with multiget/add and lists it at once', async () => {
  const { deps: d, methods, listed } = deps();
  const outcome = await addDownloads(d, paste([`${origin}/one.bin`]));
  expect(methods).toEqual(['multiget/add']);
  expect(outcome.ids).toHaveLength(1);
  expect(listed.map((x) => x.id)).toEqual(outcome.ids);
});

it('sends a batch the service refuses one URL at a time: one bad URL does not stop the others', async () => {
  const urls = [`${origin}/a.bin`, 'gopher://127.0.0.1/x', `${origin}/b.bin`];
  const { deps: d, methods } = deps();
  const outcome = await addDownloads(d, paste(urls));
  expect(methods).toEqual(['multiget/addMany', 'multiget/add', 'multiget/add', 'multiget/add']);
  expect(outcome.ids).toHaveLength(2);
  expect(outcome.refused).toEqual([{ url: 'gopher://127.0.0.1/x', reason: expect.stringMatching(/gopher.*MG_ERR_UNSUPPORTED_PROTOCOL/) }]);
  expect(await listedUrls()).toEqual([urls[0], urls[2]]);
});

it('sends more URLs than one request may carry in several batches', async () => {
  const urls = Array.from({ length: 1001 }, (_, i) => `${origin}/g-${i}.bin`);
  const { deps: d, methods } = deps();
  const outcome = await addDownloads(d, paste(urls));
  expect(methods).toEqual(['multiget/addMany', 'multiget/addMany']);
  expect(outcome.ids).toHaveLength(1001);
  expect(await listedUrls()).toEqual(urls);
});

it('refuses each URL of a batch that gets no answer, without sending them one by one', async () => {
  // The service is gone: its connection fails the request without an answer from it.
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const urls = [`${origin}/a.bin`, `${origin}/b.bin`];
  const { deps: d, methods } = deps();
  const outcome = await addDownloads(d, paste(urls));
  expect(methods).toEqual(['multiget/addMany']);
  expect(outcome.ids).toEqual([]);
  expect(outcome.refused.map((r) => r.url)).toEqual(urls);
});
