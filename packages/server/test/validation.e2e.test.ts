import { existsSync } from 'node:fs';
import { readFile, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type HttpTestServer, startHttpServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParameterStructures, RequestType } from 'vscode-jsonrpc/node';
import type { AddResult, DownloadInfoResult, IdParams, ListResult, ServiceInfo } from '../src/protocol.js';
import { ServiceProcess, cleanupTempDirs, killAll, tempDir, waitExit } from './helpers.js';

// One service for the whole file: the point is that it survives every one of these requests.
let server: HttpTestServer;
let svc: ServiceProcess;
let stateDir: string;
let dir: string;
let pausedId: string;

beforeAll(async () => {
  server = await startHttpServer();
  server.addFile('/ok.bin', { size: 4 * 1024 * 1024, seed: 1 }, { faults: { throttleBytesPerSec: 64 * 1024 } });
  stateDir = await tempDir('state');
  dir = await tempDir('dl');
  svc = new ServiceProcess(['--state-dir', stateDir, '--dir', dir]);
  await svc.initialize();
  // A paused download gives the id-taking requests something real to refuse.
  const { id } = await svc.request<AddResult>('multiget/add', { url: server.url('/ok.bin'), output: 'ok.bin' });
  pausedId = (await svc.request<DownloadInfoResult>('multiget/pause', { id })).download.id;
});
afterAll(async () => {
  await killAll();
  await server.close();
  await cleanupTempDirs();
});

const INVALID_PARAMS = -32602;

/** Every bad request: [method, params, expected data.code]. `$id` stands for a real download id. */
function badRequests(): Array<[string, unknown, string]> {
  const url = server.url('/other.bin');
  return [
    // add: shape
    ['multiget/add', undefined, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', {}, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url: 42 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url: '' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, bogus: true }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, ouput: 'x.bin' }, 'MG_ERR_INVALID_OPTION'],
    // add: URLs
    ['multiget/add', { url: 'file:///etc/passwd' }, 'MG_ERR_UNSUPPORTED_PROTOCOL'],
    ['multiget/add', { url: 'data:text/plain,hello' }, 'MG_ERR_UNSUPPORTED_PROTOCOL'],
    ['multiget/add', { url: 'javascript:alert(1)' }, 'MG_ERR_UNSUPPORTED_PROTOCOL'],
    ['multiget/add', { url: 'gopher://example.com/' }, 'MG_ERR_UNSUPPORTED_PROTOCOL'],
    ['multiget/add', { url: 'not a url' }, 'MG_ERR_INVALID_URL'],
    ['multiget/add', { url: 'http://' }, 'MG_ERR_INVALID_URL'],
    // add: mirrors
    ['multiget/add', { url, mirrors: 'http://127.0.0.1/x' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, mirrors: [42] }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, mirrors: ['file:///etc/passwd'] }, 'MG_ERR_UNSUPPORTED_PROTOCOL'],
    ['multiget/add', { url, mirrors: Array.from({ length: 65 }, (_, i) => `${url}?m=${i}`) }, 'MG_ERR_INVALID_OPTION'],
    // add: paths
    ['multiget/add', { url, output: '../escape.bin' }, 'MG_ERR_UNSAFE_PATH'],
    ['multiget/add', { url, output: 'sub/../../escape.bin' }, 'MG_ERR_UNSAFE_PATH'],
    ['multiget/add', { url, dir: '..' }, 'MG_ERR_UNSAFE_PATH'],
    ['multiget/add', { url, output: 'a\0b.bin' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, dir: 'a\0b' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, output: 'sub/' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, output: '.' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, output: 'x.bin', dir: 'd' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, output: '$state/queue.json' }, 'MG_ERR_UNSAFE_PATH'],
    ['multiget/add', { url, dir: '$state' }, 'MG_ERR_UNSAFE_PATH'],
    // add: numbers, checksum, headers, enums, credentials
    ['multiget/add', { url, connections: 0 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, connections: 1.5 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, connections: '4' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, connections: 257 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, priority: 10_000_000 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, rateLimit: 0 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, rateLimit: -1 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, checksum: 'sha256=xyz' }, 'MG_ERR_INVALID_CHECKSUM'],
    ['multiget/add', { url, checksum: 'crc99=00' }, 'MG_ERR_INVALID_CHECKSUM'],
    ['multiget/add', { url, headers: [] }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, headers: { 'Bad Name': 'x' } }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, headers: { 'X-Evil': 'a\r\nHost: other' } }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, headers: { 'X-Num': 5 } }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, existing: 'replace' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, credentials: { bearer: 5 } }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, credentials: { username: 'u' } }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/add', { url, credentials: { username: 'u', password: 'p', extra: 1 } }, 'MG_ERR_INVALID_OPTION'],
    // addMany: shape, and one bad item refuses the batch
    ['multiget/addMany', undefined, 'MG_ERR_INVALID_OPTION'],
    ['multiget/addMany', { items: [] }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/addMany', { items: 'x' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/addMany', { items: [{ url: server.url('/a') }, { url: 'file:///etc/passwd' }] }, 'MG_ERR_UNSUPPORTED_PROTOCOL'],
    ['multiget/addMany', { items: Array.from({ length: 1001 }, () => ({ url })) }, 'MG_ERR_INVALID_OPTION'],
    // requests without params refuse params
    ['multiget/list', { all: true }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/list', 'x', 'MG_ERR_INVALID_OPTION'],
    ['multiget/info', { x: 1 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/pauseAll', { x: 1 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/resumeAll', { x: 1 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/history', { limit: 1 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/clearHistory', { x: 1 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/getSettings', { x: 1 }, 'MG_ERR_INVALID_OPTION'],
    // id-taking requests
    ...['get', 'pause', 'resume', 'cancel', 'retry', 'remove'].flatMap((m): Array<[string, unknown, string]> => [
      [`multiget/${m}`, undefined, 'MG_ERR_INVALID_OPTION'],
      [`multiget/${m}`, {}, 'MG_ERR_INVALID_OPTION'],
      [`multiget/${m}`, { id: 5 }, 'MG_ERR_INVALID_OPTION'],
      [`multiget/${m}`, { id: '' }, 'MG_ERR_INVALID_OPTION'],
      [`multiget/${m}`, { id: 'x'.repeat(201) }, 'MG_ERR_INVALID_OPTION'],
      [`multiget/${m}`, { id: 'no-such-download' }, 'MG_ERR_UNKNOWN_DOWNLOAD'],
      [`multiget/${m}`, { id: '$id', extra: 1 }, 'MG_ERR_INVALID_OPTION'],
    ]),
    ['multiget/retry', { id: '$id' }, 'MG_ERR_INVALID_STATE'],
    ['multiget/retry', { id: '$id', credentials: { username: 'u' } }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/resume', { id: '$id', credentials: 'u:p' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/resume', { id: '$id', credentials: { bearer: 'a\nb' } }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/remove', { id: '$id', deleteData: 'yes' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setPriority', { id: '$id' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setPriority', { id: '$id', priority: 'high' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setPriority', { id: 'no-such-download', priority: 1 }, 'MG_ERR_UNKNOWN_DOWNLOAD'],
    ['multiget/move', { id: '$id', index: -1 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/move', { id: '$id', index: 0.5 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/move', { id: 'no-such-download', index: 0 }, 'MG_ERR_UNKNOWN_DOWNLOAD'],
    ['multiget/setRateLimit', { id: '$id' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setRateLimit', { id: '$id', rateLimit: 0 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setRateLimit', { id: '$id', rateLimit: '1M' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setRateLimit', { id: 'no-such-download', rateLimit: 1000 }, 'MG_ERR_UNKNOWN_DOWNLOAD'],
    // settings
    ['multiget/setSettings', undefined, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setSettings', { maxConcurrent: 0 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setSettings', { maxConcurrent: 2.5 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setSettings', { connections: 1000 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setSettings', { maxConnections: 0 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setSettings', { retries: -1 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setSettings', { rateLimit: -5 }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setSettings', { dir: 'relative/dir' }, 'MG_ERR_INVALID_OPTION'],
    ['multiget/setSettings', { dir: '$state' }, 'MG_ERR_UNSAFE_PATH'],
    ['multiget/setSettings', { maxConcurent: 2 }, 'MG_ERR_INVALID_OPTION'],
  ];
}

function substitute(value: unknown): unknown {
  if (typeof value === 'string') return value.replace('$state', stateDir).replace('$id', pausedId);
  if (Array.isArray(value)) return value.map(substitute);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]));
  return value;
}

describe('validation', () => {
  it('refuses every bad request with InvalidParams and our code in data.code, and keeps answering', async () => {
    const before = await svc.request<ListResult>('multiget/list');
    const mismatches: string[] = [];
    for (const [method, rawParams, code] of badRequests()) {
      const params = substitute(rawParams);
      const err = await svc.requestError(method, params);
      const label = `${method} ${JSON.stringify(params)?.slice(0, 120)}`;
      if (err.code !== INVALID_PARAMS || err.data?.code !== code) {
        mismatches.push(`${label}: got ${err.code} ${String(err.data?.code)} (${err.message}), expected ${code}`);
      }
      // Still alive and answering after each one.
      expect((await svc.request<ServiceInfo>('multiget/info')).pid).toBe(svc.child.pid);
    }
    expect(mismatches).toEqual([]);
    // Nothing was added, changed or written by any of them.
    const after = await svc.request<ListResult>('multiget/list');
    expect(after.downloads.map((d) => [d.id, d.state])).toEqual(before.downloads.map((d) => [d.id, d.state]));
    expect(await readdir(dir)).not.toContain('escape.bin');
    expect(existsSync(join(dir, '..', 'escape.bin'))).toBe(false);
    const { settings } = await svc.request<{ settings: { maxConcurrent: number; dir: string } }>('multiget/getSettings');
    expect(settings).toMatchObject({ maxConcurrent: 3, dir });
  });

  it('accepts good params in the forms a client may send them', async () => {
    const url = server.url('/ok.bin');
    // The same URL and target as the paused download: the existing download, never a second writer.
    const again = await svc.request<AddResult>('multiget/add', { url, output: 'ok.bin' });
    expect(again.id).toBe(pausedId);
    const absolute = join(dir, 'abs', 'x.bin');
    const added = await svc.request<AddResult>('multiget/add', {
      url: server.url('/other.bin'),
      output: absolute,
      connections: 2,
      checksum: `sha256=${'0'.repeat(64)}`,
      headers: { 'X-Test': 'yes', Authorization: 'Bearer secret' },
      priority: -5,
      rateLimit: 1000,
      existing: 'overwrite',
    });
    expect(added.download).toMatchObject({ file: absolute, priority: -5, rateLimit: 1000 });
    // `auto`: the checksum file beside the URL, which the engine looks for (not a digest to parse).
    const sub = await svc.request<AddResult>('multiget/add', { url: server.url('/third.bin'), dir: 'sub/dir', checksum: 'auto' });
    expect(sub.download.url).toBe(server.url('/third.bin'));
    // Positional form: one params object inside an array (`"params": [{ "id": ... }]`).
    const byPosition = new RequestType<IdParams, DownloadInfoResult, unknown>('multiget/get', ParameterStructures.byPosition);
    const positional = await svc.connection.sendRequest(byPosition, { id: pausedId });
    expect(positional.download.id).toBe(pausedId);
    // Requests without params take none, null or {}.
    await svc.request('multiget/list', {});
    await svc.request('multiget/list', null);
    for (const id of [added.id, sub.id]) await svc.request('multiget/remove', { id, deleteData: true });
  });

  it('answers an unknown method with MethodNotFound and goes on', async () => {
    const err = await svc.requestError('multiget/frobnicate', { id: 'x' });
    expect(err.code).toBe(-32601);
    expect((await svc.request<ServiceInfo>('multiget/info')).pid).toBe(svc.child.pid);
    // Unknown notifications are ignored.
    await svc.connection.sendNotification('multiget/whatever', { x: 1 });
    expect((await svc.request<ServiceInfo>('multiget/info')).pid).toBe(svc.child.pid);
  });

  it('never writes into its state directory through a link: paths are compared as real paths', async () => {
    // A link inside the download directory that points at the state directory, and the state
    // directory named through a link of its own.
    await symlink(stateDir, join(dir, 'to-state'));
    await symlink(stateDir, `${stateDir}-link`);
    const queueBefore = await readFile(join(stateDir, 'queue.json'), 'utf8');
    const attempts: unknown[][] = [
      ['multiget/add', { url: server.url('/ok.bin'), output: 'to-state/queue.json', existing: 'overwrite' }],
      ['multiget/add', { url: server.url('/ok.bin'), output: join(dir, 'to-state', 'queue.json'), existing: 'overwrite' }],
      ['multiget/add', { url: server.url('/ok.bin'), output: join(`${stateDir}-link`, 'history.json'), existing: 'overwrite' }],
      ['multiget/add', { url: server.url('/ok.bin'), dir: 'to-state' }],
      ['multiget/addMany', { items: [{ url: server.url('/ok.bin'), output: 'fine.bin' }, { url: server.url('/ok.bin'), dir: 'to-state/sub' }] }],
      ['multiget/setSettings', { dir: join(dir, 'to-state') }],
      ['multiget/setSettings', { dir: `${stateDir}-link` }],
    ];
    for (const [method, params] of attempts) {
      const err = await svc.requestError(method as string, params);
      expect(err.data?.code, JSON.stringify(params)).toBe('MG_ERR_UNSAFE_PATH');
    }
    expect(await readFile(join(stateDir, 'queue.json'), 'utf8')).toBe(queueBefore);
    expect((await svc.request<ListResult>('multiget/list')).downloads.map((d) => d.id)).toEqual([pausedId]);
  });

  it('survives well-framed messages that are not JSON-RPC or of the wrong shape', async () => {
    const frame = (body: string): string => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const bodies = [
      '{"hello":1}',
      '{"jsonrpc":"2.0"}',
      '{"jsonrpc":"2.0","id":7001,"method":7}',
      '{"jsonrpc":"2.0","id":7002,"method":"multiget/get","params":"abc"}',
      '{"jsonrpc":"2.0","id":7003,"method":"multiget/get","params":[1,2,3]}',
      '{"jsonrpc":"2.0","id":7004,"method":"multiget/add","params":{"url":"javascript:alert(1)"}}',
      `{"jsonrpc":"2.0","id":7005,"method":"multiget/add","params":{"url":"${'x'.repeat(70_000)}"}}`,
      '{"jsonrpc":"2.0","method":"multiget/add","params":{"url":"file:///etc/passwd"}}',
    ];
    for (const body of bodies) {
      svc.child.stdin!.write(frame(body));
      expect((await svc.request<ServiceInfo>('multiget/info')).pid).toBe(svc.child.pid);
    }
    const list = await svc.request<ListResult>('multiget/list');
    expect(list.downloads.map((d) => d.id)).toEqual([pausedId]);
    expect(svc.child.exitCode).toBeNull();
  });

  it('refuses requests after shutdown with MG_ERR_INVALID_STATE', async () => {
    await svc.request('shutdown');
    const err = await svc.requestError('multiget/list');
    expect(err.data?.code).toBe('MG_ERR_INVALID_STATE');
    await svc.connection.sendNotification('exit');
    expect((await waitExit(svc, 15_000)).code).toBe(0);
  });
});

describe('a malformed frame', () => {
  // Each breaks the LSP base protocol; with vscode-jsonrpc's own reader several of them (a negative
  // or fractional length, a second Content-Length, a huge length) left the service alive but deaf.
  const cases: Array<[string, string | Buffer]> = [
    ['a negative Content-Length', 'Content-Length: -5\r\n\r\n{}'],
    ['a Content-Length that is not a number', 'Content-Length: abc\r\n\r\n{}'],
    ['a fractional Content-Length', 'Content-Length: 2.5\r\n\r\n{}'],
    ['a Content-Length in exponent form', 'Content-Length: 1e1\r\n\r\n{"a":12345}'],
    ['an empty Content-Length', 'Content-Length: \r\n\r\n{}'],
    ['no Content-Length', 'Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}'],
    ['two Content-Lengths', 'Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}'],
    ['a huge Content-Length', 'Content-Length: 9999999999\r\n\r\n{}'],
    ['a header line without a colon', 'Content-Length 2\r\n\r\n{}'],
    ['a header block that never ends', `X-Filler: ${'a'.repeat(10_000)}`],
    ['a header with a non-ASCII byte', Buffer.concat([Buffer.from('Content-Length: 2\r\nX: '), Buffer.from([0xff]), Buffer.from('\r\n\r\n{}')])],
    ['a charset other than UTF-8', 'Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=latin1\r\n\r\n{}'],
    ['a body that is not JSON', 'Content-Length: 9\r\n\r\n{not json'],
    ['an empty body', 'Content-Length: 0\r\n\r\n'],
    ['a body that is not UTF-8', Buffer.concat([Buffer.from('Content-Length: 4\r\n\r\n"'), Buffer.from([0xc3, 0x28]), Buffer.from('"')])],
    ['a JSON body that is not an object', 'Content-Length: 7\r\n\r\n[1,2,3]'],
  ];
  it.each(cases)('stops the service in order with exit 1 on %s, instead of leaving it deaf', async (_name, bytes) => {
    const state = await tempDir('state');
    const s = new ServiceProcess(['--state-dir', state, '--dir', await tempDir('dl')]);
    await s.initialize();
    s.child.stdin!.write(bytes);
    const exit = await waitExit(s, 15_000);
    expect(exit.code).toBe(1);
    expect(s.stderr).toMatch(/the transport is broken/);
    // In order: the manager closed and released its lock.
    expect(existsSync(join(state, 'manager.lock'))).toBe(false);
  });
});
