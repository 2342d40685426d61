import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { ErrorCodes, Manager } from '@multiget/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ResponseError as ClientResponseError, createMessageConnection } from 'vscode-jsonrpc/node';
import { ProposedFeatures, type WatchDog, createConnection } from 'vscode-languageserver';
import { StreamMessageReader, StreamMessageWriter, createProtocolConnection } from 'vscode-languageserver/node';
import { toDownloadInfo, toSettings } from '../src/dto.js';
import { StrictMessageReader } from '../src/frameReader.js';
import { parseServerArgs } from '../src/main.js';
import { resolveUserPath } from '../src/params.js';
import { resolveDownloadDir, resolveStateDir } from '../src/paths.js';
import { defaultPlugins } from '../src/plugins.js';
import * as protocol from '../src/protocol.js';
import { Service } from '../src/Service.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

afterEach(cleanupTempDirs);

/** Every message namespace protocol.ts exports. */
function messages(): Array<{ method: string; messageDirection: string }> {
  return Object.values(protocol as Record<string, unknown>).filter(
    (v): v is { method: string; messageDirection: string } => typeof v === 'object' && v !== null && 'method' in v && 'messageDirection' in v,
  );
}

describe('protocol.ts', () => {
  it('imports nothing but vscode-jsonrpc, in source and in the build', async () => {
    // The packages a module imports, through the build's own files (the chunks it shares with the
    // other entry points) when there are any.
    const packagesOf = async (url: URL, seen = new Set<string>()): Promise<Set<string>> => {
      const found = new Set<string>();
      if (seen.has(url.href)) return found;
      seen.add(url.href);
      const text = await readFile(url, 'utf8');
      for (const [, spec] of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']/gm)) {
        if (spec!.startsWith('.')) for (const p of await packagesOf(new URL(spec!, url), seen)) found.add(p);
        else found.add(spec!);
      }
      return found;
    };
    for (const file of ['../src/protocol.ts', '../dist/protocol.js']) {
      expect(await packagesOf(new URL(file, import.meta.url)), file).toEqual(new Set(['vscode-jsonrpc']));
    }
  });

  it('declares error codes that are the core codes of the same name', () => {
    for (const [key, value] of Object.entries(protocol.MultigetErrorCodes)) {
      expect((ErrorCodes as Record<string, string>)[key]).toBe(value);
    }
  });

  it('names every message multiget/*, once, with its direction', () => {
    const namespaces = messages();
    expect(namespaces.length).toBe(32);
    const methods = namespaces.map((n) => n.method);
    expect(new Set(methods).size).toBe(methods.length);
    for (const n of namespaces) {
      expect(n.method).toMatch(/^multiget\/[a-zA-Z]+$/);
      expect(['clientToServer', 'serverToClient']).toContain(n.messageDirection);
    }
  });
});

describe('the service in process', () => {
  it('serves every request protocol.ts declares', async () => {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const manager = await Manager.open({ plugins: defaultPlugins(), settings: { dir: await tempDir('dl') } });
    const watchDog: WatchDog = { shutdownReceived: false, initialize: () => undefined, exit: () => undefined };
    const connection = createConnection(
      () => createProtocolConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient)),
      watchDog,
      ProposedFeatures.all,
    );
    const service = new Service(manager, connection, {
      info: { name: 'multiget-server', version: '0', protocolVersion: 1, schemes: ['http'], stateDir: await tempDir('state'), pid: process.pid },
      log: () => undefined,
    });
    connection.listen();
    const client = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
    client.listen();
    try {
      const requests = messages().filter((m) => m.messageDirection === 'clientToServer');
      expect(requests.length).toBe(27);
      for (const { method } of requests) {
        // Whatever the answer (most of these params are wrong on purpose), it is not MethodNotFound.
        const outcome = await client.sendRequest(method, { id: 'none' }).then(
          () => 'ok',
          (err: unknown) => (err instanceof ClientResponseError ? err.code : String(err)),
        );
        expect(outcome, method).not.toBe(-32601);
      }
    } finally {
      client.dispose();
      await service.close();
      connection.dispose();
    }
  });
});

describe('where state lives', () => {
  const ctx = (platform: NodeJS.Platform, env: NodeJS.ProcessEnv = {}): Parameters<typeof resolveStateDir>[1] => ({ env, platform, home: '/home/u' });

  it('prefers --state-dir, then MULTIGET_STATE_DIR, then the per-user default', () => {
    expect(resolveStateDir('/opt/state', ctx('linux', { MULTIGET_STATE_DIR: '/env' }))).toBe('/opt/state');
    expect(resolveStateDir('rel', ctx('linux'))).toBe(resolve('rel'));
    expect(resolveStateDir(undefined, ctx('linux', { MULTIGET_STATE_DIR: '/env' }))).toBe('/env');
    expect(resolveStateDir(undefined, ctx('linux', { MULTIGET_STATE_DIR: '' }))).toBe('/home/u/.local/state/multiget');
  });

  it('follows each platform: XDG state home, Application Support, LOCALAPPDATA', () => {
    expect(resolveStateDir(undefined, ctx('linux'))).toBe('/home/u/.local/state/multiget');
    expect(resolveStateDir(undefined, ctx('linux', { XDG_STATE_HOME: '/xdg' }))).toBe('/xdg/multiget');
    // The XDG spec says a relative path there is invalid and must be ignored.
    expect(resolveStateDir(undefined, ctx('linux', { XDG_STATE_HOME: 'relative' }))).toBe('/home/u/.local/state/multiget');
    expect(resolveStateDir(undefined, ctx('darwin'))).toBe('/home/u/Library/Application Support/multiget');
    if (process.platform !== 'win32') {
      expect(resolveStateDir(undefined, ctx('win32', { LOCALAPPDATA: '/appdata/local' }))).toBe('/appdata/local/multiget');
      expect(resolveStateDir(undefined, ctx('win32'))).toBe('/home/u/AppData/Local/multiget');
    }
  });

  it('downloads to --dir, else ~/Downloads when it exists, else the working directory', async () => {
    const home = await tempDir('home');
    expect(resolveDownloadDir(undefined, home, '/srv')).toBe('/srv');
    await mkdir(join(home, 'Downloads'));
    expect(resolveDownloadDir(undefined, home, '/srv')).toBe(join(home, 'Downloads'));
    expect(resolveDownloadDir('d', home, '/srv')).toBe('/srv/d');
  });
});

describe('path rules', () => {
  const rules = { dir: '/data/dl', stateDir: '/home/u/.local/state/multiget' };
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
      return undefined;
    } catch (err) {
      return (err as { code?: string }).code;
    }
  };

  it('resolves relative paths against the download directory and keeps them inside it', () => {
    expect(resolveUserPath('a.bin', 'output', rules)).toBe('/data/dl/a.bin');
    expect(resolveUserPath('sub/../a.bin', 'output', rules)).toBe('/data/dl/a.bin');
    expect(resolveUserPath('..a/b', 'output', rules)).toBe('/data/dl/..a/b');
    expect(code(() => resolveUserPath('../a.bin', 'output', rules))).toBe('MG_ERR_UNSAFE_PATH');
    expect(code(() => resolveUserPath('..', 'dir', rules))).toBe('MG_ERR_UNSAFE_PATH');
  });

  it('takes absolute paths as given, except into the state directory', () => {
    expect(resolveUserPath('/elsewhere/a.bin', 'output', rules)).toBe('/elsewhere/a.bin');
    expect(code(() => resolveUserPath('/home/u/.local/state/multiget/queue.json', 'output', rules))).toBe('MG_ERR_UNSAFE_PATH');
    expect(code(() => resolveUserPath('/home/u/.local/state/multiget', 'dir', rules))).toBe('MG_ERR_UNSAFE_PATH');
    expect(code(() => resolveUserPath('/home/u/.local/state', 'dir', rules))).toBeUndefined();
    expect(code(() => resolveUserPath('/x/a\0b', 'output', rules))).toBe('MG_ERR_INVALID_OPTION');
  });

  it('compares real paths: no link leads a path into the state directory or out of the download directory', async () => {
    const root = await tempDir('links');
    const state = join(root, 'state');
    const dl = join(root, 'dl');
    const outside = join(root, 'outside');
    await mkdir(state);
    await mkdir(dl);
    await mkdir(outside);
    await symlink(state, join(dl, 'to-state'));
    await symlink(outside, join(dl, 'to-outside'));
    await symlink(join(root, 'nowhere'), join(dl, 'dangling'));
    await symlink(state, join(root, 'state-link'));
    await symlink(dl, join(root, 'dl-link'));
    const real = { dir: dl, stateDir: state };
    // Through a link inside the download directory, relative or absolute, file or folder.
    expect(code(() => resolveUserPath('to-state/queue.json', 'output', real))).toBe('MG_ERR_UNSAFE_PATH');
    expect(code(() => resolveUserPath('to-state/new/deeper.bin', 'output', real))).toBe('MG_ERR_UNSAFE_PATH');
    expect(code(() => resolveUserPath('to-state', 'dir', real))).toBe('MG_ERR_UNSAFE_PATH');
    expect(code(() => resolveUserPath(join(dl, 'to-state', 'queue.json'), 'output', real))).toBe('MG_ERR_UNSAFE_PATH');
    // The state directory named through a link, or the rules' own directories given through links.
    expect(code(() => resolveUserPath(join(root, 'state-link', 'x'), 'output', real))).toBe('MG_ERR_UNSAFE_PATH');
    expect(code(() => resolveUserPath(join(state, 'x'), 'output', { dir: dl, stateDir: join(root, 'state-link') }))).toBe('MG_ERR_UNSAFE_PATH');
    expect(code(() => resolveUserPath('to-state/x', 'output', { dir: join(root, 'dl-link'), stateDir: join(root, 'state-link') }))).toBe('MG_ERR_UNSAFE_PATH');
    // A relative path that a link leads out of the download directory; a link that leads nowhere.
    expect(code(() => resolveUserPath('to-outside/a.bin', 'output', real))).toBe('MG_ERR_UNSAFE_PATH');
    expect(code(() => resolveUserPath('dangling/a.bin', 'output', real))).toBe('MG_ERR_UNSAFE_PATH');
    // Fine paths come back real, so the manager writes where the check looked.
    expect(resolveUserPath('sub/a.bin', 'output', { dir: join(root, 'dl-link'), stateDir: state })).toBe(join(dl, 'sub', 'a.bin'));
    expect(resolveUserPath(join(root, 'dl-link', 'a.bin'), 'output', real)).toBe(join(dl, 'a.bin'));
    expect(resolveUserPath(join(dl, 'to-outside', 'a.bin'), 'output', real)).toBe(join(outside, 'a.bin'));
  });
});

describe('command line', () => {
  it('parses what vscode-languageclient passes', () => {
    expect(parseServerArgs(['--node-ipc', '--clientProcessId=123'])).toEqual({
      kind: 'serve',
      options: { transport: 'node-ipc', clientProcessId: 123 },
    });
    expect(parseServerArgs(['--stdio', '--clientProcessId', '9', '--state-dir=/s', '--dir', '/d', '--restore=paused'])).toEqual({
      kind: 'serve',
      options: { transport: 'stdio', clientProcessId: 9, stateDir: '/s', dir: '/d', restore: 'paused' },
    });
    expect(() => parseServerArgs(['--stdio', '--state-dir='])).toThrow(/non-empty/);
  });
});

describe('DTOs', () => {
  it('turns absent values into null, so every field is present', () => {
    const info = toDownloadInfo({
      id: 'i',
      url: 'http://h/f',
      file: undefined,
      state: 'queued',
      priority: 0,
      bytes: 0,
      total: undefined,
      speed: 0,
      eta: undefined,
      connections: 0,
      reason: undefined,
      error: undefined,
      addedAt: '2020-01-01T00:00:00.000Z',
      rateLimit: undefined,
      awaitingCredentials: false,
    });
    expect(info).toEqual({
      id: 'i',
      url: 'http://h/f',
      file: null,
      state: 'queued',
      priority: 0,
      bytes: 0,
      total: null,
      speed: 0,
      eta: null,
      connections: 0,
      reason: null,
      error: null,
      addedAt: '2020-01-01T00:00:00.000Z',
      rateLimit: null,
      awaitingCredentials: false,
    });
    expect(JSON.parse(JSON.stringify(info))).toEqual(info);
    expect(
      toSettings({ maxConcurrent: 1, connections: 2, maxConnectionsPerHost: 3, maxConnections: 4, rateLimit: undefined, retries: 5, dir: '/d' }).rateLimit,
    ).toBeNull();
  });
});

describe('StrictMessageReader', () => {
  const frame = (body: string): Buffer => Buffer.concat([Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`), Buffer.from(body)]);

  it('reads frames however the stream cuts them: byte by byte, several in one chunk, with Content-Type and any header case', () => {
    const bodies = ['{"jsonrpc":"2.0","id":1,"method":"a"}', '{"jsonrpc":"2.0","method":"b","params":{"s":"é€😀"}}', '{"jsonrpc":"2.0","id":"x","result":null}'];
    const withType = Buffer.concat([Buffer.from(`content-length:${Buffer.byteLength(bodies[1]!)}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n`), Buffer.from(bodies[1]!)]);
    const all = Buffer.concat([frame(bodies[0]!), withType, frame(bodies[2]!)]);
    for (const cut of [1, 7, all.length]) {
      const input = new PassThrough();
      const reader = new StrictMessageReader(input);
      const got: unknown[] = [];
      const errors: Error[] = [];
      reader.onError((e) => errors.push(e));
      reader.listen((m) => got.push(m));
      for (let i = 0; i < all.length; i += cut) input.write(all.subarray(i, i + cut));
      expect(errors, `cut ${cut}`).toEqual([]);
      expect(got, `cut ${cut}`).toEqual(bodies.map((b) => JSON.parse(b)));
    }
  });

  it('reports one error for a malformed frame and reads nothing after it', () => {
    const input = new PassThrough();
    const reader = new StrictMessageReader(input);
    const got: unknown[] = [];
    const errors: Error[] = [];
    reader.onError((e) => errors.push(e));
    reader.listen((m) => got.push(m));
    input.write(Buffer.concat([frame('{"a":1}'), Buffer.from('Content-Length: -5\r\n\r\n'), frame('{"b":2}')]));
    expect(got).toEqual([{ a: 1 }]);
    expect(errors.map((e) => e.name)).toEqual(['FramingError']);
    expect(errors[0]!.message).toMatch(/Content-Length "-5"/);
  });
});
