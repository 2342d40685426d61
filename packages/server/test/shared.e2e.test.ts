/**
 * The shared service (`--listen`): one service per state directory that several clients (VS Code
 * windows, an extension host that lingers after its browser tab died) connect to at once. Every
 * test runs real detached service processes, found and started through `openService`, as the
 * extension does.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StartedService, openService, readEndpoint } from '../src/connect.js';
import type { AddResult, DownloadInfo, DownloadInfoResult, ListResult, ServiceInfo } from '../src/protocol.js';
import { cleanupTempDirs, sha256File, tempDir } from './helpers.js';
import { SocketClient, alive, endpointPid, killSharedServices, starter, until } from './socketClient.js';

const MiB = 1024 * 1024;

let http: HttpTestServer;
const clients: SocketClient[] = [];
beforeEach(async () => {
  http = await startHttpServer();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await killSharedServices();
  await http.close();
  await cleanupTempDirs();
});

async function client(stateDir: string, dir: string, extra: readonly string[] = []): Promise<SocketClient> {
  const c = await SocketClient.open(stateDir, starter(stateDir, dir, extra));
  clients.push(c);
  return c;
}

describe('one service, several clients', () => {
  it('shows a download added by one client to the other, which pauses it after the first vanished without shutdown', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    http.addFile('/slow.bin', { size: 8 * MiB, seed: 3 }, { faults: { throttleBytesPerSec: 256 * 1024 } });

    const a = await client(stateDir, dir);
    const infoA = (await a.initialize()).multiget;
    const b = await client(stateDir, dir);
    const infoB = (await b.initialize()).multiget;
    // One process serves both.
    expect(infoB.pid).toBe(infoA.pid);

    const { id } = await a.request<AddResult>('multiget/add', { url: http.url('/slow.bin'), output: 'slow.bin', connections: 2 });
    // B learns of it by notification and by listing.
    await until(() => (b.latest().get(id)?.bytes ?? 0) > 0, 'B to see progress of the download A added');
    expect((await b.request<ListResult>('multiget/list')).downloads.map((d) => d.id)).toEqual([id]);

    // A dies without a word (a closed browser tab's extension host, a crash).
    a.destroy();
    await until(() => a.closed, 'A to be gone');
    const running = (await b.request<DownloadInfoResult>('multiget/get', { id })).download;
    expect(['probing', 'downloading']).toContain(running.state);

    const paused = (await b.request<DownloadInfoResult>('multiget/pause', { id })).download;
    expect(paused.state).toBe('paused');
    expect((await b.request<ServiceInfo>('multiget/info')).pid).toBe(infoA.pid);
  });

  it('serves a dozen clients at once: each gets every notification, without piling listeners onto the manager', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    http.addFile('/n.bin', { size: 64 * 1024, seed: 5 });
    const many: SocketClient[] = [];
    for (let i = 0; i < 12; i++) {
      const c = await client(stateDir, dir);
      await c.initialize();
      many.push(c);
    }
    const { id } = await many[0]!.request<AddResult>('multiget/add', { url: http.url('/n.bin'), output: 'n.bin' });
    await until(() => many.every((c) => c.latest().get(id)?.state === 'completed'), 'every client to see the download complete');
    expect(await readFile(join(stateDir, 'service.log'), 'utf8')).not.toMatch(/MaxListenersExceeded/);
  });

  it("ends only the leaving client's session on shutdown/exit; the downloads and the other client go on", async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const a = await client(stateDir, dir);
    await a.initialize();
    const b = await client(stateDir, dir);
    await b.initialize();
    await a.request('shutdown');
    await a.connection.sendNotification('exit');
    await until(() => a.closed, 'the server to close A');
    expect((await b.request<ListResult>('multiget/list')).downloads).toEqual([]);
    expect(alive(a.endpoint.pid)).toBe(true);
  });

  it('keeps running a download when its only client leaves, finishes it exactly, then exits on its own when idle', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const content = { size: 3 * MiB, seed: 9 };
    http.addFile('/f.bin', content, { faults: { throttleBytesPerSec: 512 * 1024 } });
    const a = await client(stateDir, dir, ['--idle-exit', '1']);
    await a.initialize();
    const pid = a.endpoint.pid;
    const { id } = await a.request<AddResult>('multiget/add', { url: http.url('/f.bin'), output: 'f.bin', connections: 2 });
    await until(() => (a.latest().get(id)?.bytes ?? 0) > 0, 'the download to start');
    a.destroy();

    // Nobody connected: the download still completes, and only then does the service leave.
    await until(() => existsSync(join(dir, 'f.bin')), 'the file to be completed without a client', 60_000);
    expect(await sha256File(join(dir, 'f.bin'))).toBe(sha256(content));
    await until(() => !alive(pid), 'the idle service to exit', 30_000);
    expect(await readEndpoint(stateDir)).toBeUndefined();
    expect(existsSync(join(stateDir, 'manager.lock'))).toBe(false);

    // The next client starts a new service, which lists the completed download.
    const b = await client(stateDir, dir);
    await b.initialize();
    expect(b.endpoint.pid).not.toBe(pid);
    const listed = (await b.request<ListResult>('multiget/list')).downloads.find((d: DownloadInfo) => d.id === id);
    expect(listed?.state).toBe('completed');
  });

  it('stops in order when its socket file is deleted (a /tmp cleaner), so that the next client starts a reachable one', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const a = await client(stateDir, dir);
    await a.initialize();
    await unlink(a.endpoint.socket);
    await until(() => !alive(a.endpoint.pid), 'the unreachable service to exit', 30_000);
    expect(existsSync(join(stateDir, 'manager.lock'))).toBe(false);
    const b = await client(stateDir, dir);
    expect((await b.initialize()).multiget.pid).not.toBe(a.endpoint.pid);
  });

  it('stops for every client on multiget/stopService, in order', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const a = await client(stateDir, dir);
    await a.initialize();
    const b = await client(stateDir, dir);
    await b.initialize();
    expect(await a.request('multiget/stopService')).toBeNull();
    await until(() => a.closed && b.closed, 'both clients to be disconnected');
    await until(() => !alive(a.endpoint.pid), 'the service to exit');
    expect(await readEndpoint(stateDir)).toBeUndefined();
    expect(existsSync(a.endpoint.socket)).toBe(false);
    expect(existsSync(join(stateDir, 'manager.lock'))).toBe(false);
  });
});

describe('starting', () => {
  it('ends a race of two services started at once with one service, which both clients use', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const start = starter(stateDir, dir);
    // Two windows that found no service both start one.
    const [s1, s2] = await Promise.all([start(), start()]);
    const [a, b] = await Promise.all([SocketClient.open(stateDir, async () => s1), SocketClient.open(stateDir, async () => s2)]);
    clients.push(a, b);
    const [ia, ib] = await Promise.all([a.initialize(), b.initialize()]);
    expect(ia.multiget.pid).toBe(ib.multiget.pid);
    expect([s1.pid, s2.pid]).toContain(ia.multiget.pid);
    // The loser found the state directory locked and left with exit code 8.
    const loser = s1.pid === ia.multiget.pid ? s2 : s1;
    await until(() => loser.exitCode !== null, 'the second service to exit');
    expect(loser.exitCode).toBe(8);
    expect(await loser.logTail()).toMatch(/MG_ERR_STATE_LOCKED/);
  });

  it('starts again when the lock holder goes away without ever listening (a service that was stopping)', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    await mkdir(stateDir, { recursive: true });
    // A process that holds the state directory's lock but never listens: a service on its way out.
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await writeFile(join(stateDir, 'manager.lock'), JSON.stringify({ pid: holder.pid, host: hostname() }));
    const start = starter(stateDir, dir);
    const starts: StartedService[] = [];
    const opening = SocketClient.open(stateDir, async () => {
      const s = await start();
      starts.push(s);
      return s;
    });
    // The first service finds the lock held and leaves (exit 8); then the holder is gone.
    await until(() => starts[0]?.exitCode === 8, 'the first start to lose against the lock holder');
    holder.kill('SIGKILL');
    const c = await opening;
    clients.push(c);
    expect(starts.length).toBeGreaterThan(1);
    expect((await c.initialize()).multiget.pid).toBe(starts.at(-1)!.pid);
  });

  it('connects to a running service instead of starting another one, and starts anew after it was killed', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const a = await client(stateDir, dir);
    await a.initialize();
    let starts = 0;
    const start = starter(stateDir, dir);
    const counting = async () => {
      starts++;
      return start();
    };
    const b = await SocketClient.open(stateDir, counting);
    clients.push(b);
    expect(starts).toBe(0);
    process.kill(a.endpoint.pid, 'SIGKILL');
    await until(() => a.closed && b.closed, 'the clients to see the service gone');
    // The endpoint file is stale now (the socket has no listener): a new service is started.
    expect(await endpointPid(stateDir)).toBe(a.endpoint.pid);
    const c = await SocketClient.open(stateDir, counting);
    clients.push(c);
    expect(starts).toBe(1);
    expect((await c.initialize()).multiget.pid).not.toBe(a.endpoint.pid);
  });
});

describe('only the user gets in', () => {
  it('listens on a 0600 socket in a 0700 directory and announces it in a 0600 endpoint file', async () => {
    const stateDir = await tempDir('state');
    const c = await client(stateDir, await tempDir('dl'));
    await c.initialize();
    const socket = await lstat(c.endpoint.socket);
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    expect((await stat(dirname(c.endpoint.socket))).mode & 0o777).toBe(0o700);
    expect((await stat(join(stateDir, 'service.json'))).mode & 0o777).toBe(0o600);
    expect(c.endpoint.token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses to listen in a socket directory that others can enter, and the client says why at once', async () => {
    const stateDir = await tempDir('state');
    const runtime = await tempDir('runtime');
    await mkdir(join(runtime, 'multiget'));
    await chmod(join(runtime, 'multiget'), 0o755);
    const failure = await openService({ stateDir, start: starter(stateDir, await tempDir('dl'), [], { XDG_RUNTIME_DIR: runtime }), timeoutMs: 60_000 }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    // Exit 2 with the reason, not mistaken for a lost race (exit 8), which would wait for a winner.
    expect(failure?.message).toMatch(/exited with code 2[\s\S]*mode 0700[\s\S]*MG_ERR_UNSAFE_PATH/);
    expect(existsSync(join(stateDir, 'manager.lock'))).toBe(false);
  });

  it('refuses a client without the token (wrong token, none, or another request first) with MG_ERR_AUTH and closes it', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const good = await client(stateDir, dir);
    await good.initialize();
    http.addFile('/x.bin', { size: 1024, seed: 1 });
    const { id } = await good.request<AddResult>('multiget/add', { url: http.url('/x.bin'), output: 'x.bin' });

    const attempts: Array<(c: SocketClient) => Promise<unknown>> = [
      (c) => c.request('initialize', { processId: null, rootUri: null, capabilities: {}, initializationOptions: { token: 'f'.repeat(64) } }),
      (c) => c.request('initialize', { processId: null, rootUri: null, capabilities: {} }),
      (c) => c.request('multiget/list'),
      (c) => c.request('multiget/stopService'),
    ];
    for (const attempt of attempts) {
      const socket = connect(good.endpoint.socket);
      await new Promise((resolve) => socket.once('connect', resolve));
      const intruder = new SocketClient(socket, good.endpoint);
      clients.push(intruder);
      const err = await attempt(intruder).then(
        () => undefined,
        (e: unknown) => e as { data?: { code?: string } },
      );
      expect(err?.data?.code).toBe('MG_ERR_AUTH');
      await until(() => intruder.closed, 'the service to close the refused connection');
    }
    // The service is untouched.
    expect((await good.request<ServiceInfo>('multiget/info')).pid).toBe(good.endpoint.pid);
    expect((await good.request<ListResult>('multiget/list')).downloads.map((d) => d.id)).toEqual([id]);
  });

  it('closes only the connection that sends a malformed frame', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const good = await client(stateDir, dir);
    await good.initialize();
    for (const frame of ['Content-Length: -5\r\n\r\n{}', 'Content-Length: 2\r\n\r\n{x', 'Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}']) {
      const bad = await client(stateDir, dir);
      await bad.initialize();
      bad.socket.write(frame);
      await until(() => bad.closed, `the service to close the connection that sent ${JSON.stringify(frame)}`);
    }
    expect((await good.request<ServiceInfo>('multiget/info')).pid).toBe(good.endpoint.pid);
  });
});
