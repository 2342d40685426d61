/**
 * The in-extension-host suite. `run()` is the entry @vscode/test-electron calls (extensionTestsPath);
 * `runSuite()` is what "Multiget: Run Self Tests" calls inside code-server, returning the report.
 * Every test drives the real extension and the real service process it started.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { GetSettingsRequest, type DownloadInfo, type DownloadInfoState } from '@multiget/server/protocol';
import type { MultigetTestApi } from '../../api';
import { assert, assertEqual, runTests, waitFor, type SuiteReport, type TestCase } from './harness';
import { randomFile, startFileServer, type FileServer } from './fileServer';

const EXTENSION_ID = 'multiget.multiget-vscode';

async function extensionApi(): Promise<MultigetTestApi> {
  const ext = vscode.extensions.getExtension<MultigetTestApi>(EXTENSION_ID);
  assert(ext !== undefined, `extension ${EXTENSION_ID} is not installed`);
  const api = ext.isActive ? ext.exports : await ext.activate();
  assert(api !== undefined, 'the extension exports no test API (not in test mode?)');
  return api;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function find(api: MultigetTestApi, id: string): DownloadInfo | undefined {
  return api.downloads().find((d) => d.id === id);
}

async function waitState(api: MultigetTestApi, id: string, states: DownloadInfoState[], timeoutMs: number): Promise<DownloadInfo> {
  return await waitFor(
    () => {
      const d = find(api, id);
      if (d !== undefined && (d.state === 'failed') && !states.includes('failed')) {
        throw new Error(`download failed: ${d.error?.code} ${d.error?.message}`);
      }
      return d !== undefined && states.includes(d.state) ? d : undefined;
    },
    timeoutMs,
    `download ${id} to be ${states.join(' or ')} (it is ${find(api, id)?.state ?? 'missing'})`,
  );
}

async function download(url: string, dir: string): Promise<string> {
  const id = await vscode.commands.executeCommand<string | undefined>('multiget.downloadUrl', { url, dir });
  assert(typeof id === 'string', `multiget.downloadUrl returned no id for ${url}`);
  return id;
}

function webviewTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes('multiget.downloads'));
}

function tests(ctx: { api: MultigetTestApi; server: FileServer; dir: string }): TestCase[] {
  return [
    {
      name: 'the service starts and reports the schemes it serves',
      fn: async () => {
        const info = await ctx.api.whenRunning(30_000);
        assert(info.schemes.includes('http') && info.schemes.includes('https'), `schemes: ${info.schemes.join(',')}`);
        assert(info.pid !== process.pid, 'the service must run in its own process');
      },
    },
    {
      name: 'every command is registered',
      fn: async () => {
        const all = new Set(await vscode.commands.getCommands(true));
        for (const c of ['downloadUrl', 'downloadUrlAtCursor', 'downloadRemoteFolder', 'showDownloads', 'pauseAll', 'resumeAll', 'pause', 'resume', 'cancel', 'retry', 'remove', 'open', 'reveal', 'setCredentials']) {
          assert(all.has(`multiget.${c}`), `multiget.${c} is not registered`);
        }
      },
    },
    {
      name: 'Download URL saves the file into the given folder with the right bytes',
      fn: async () => {
        const file = randomFile(3 * 1024 * 1024 + 17);
        ctx.server.add('/plain.bin', { body: file.body });
        const id = await download(ctx.server.url('/plain.bin'), ctx.dir);
        const done = await waitState(ctx.api, id, ['completed'], 30_000);
        assert(done.file !== null, 'a completed download names its file');
        assertEqual(path.dirname(done.file), ctx.dir, 'folder');
        assertEqual(sha256(await fs.readFile(done.file)), file.sha256, 'sha256 of the downloaded file');
      },
    },
    {
      name: 'Download Folder refuses a web folder itself, and a folder the service cannot list adds nothing',
      fn: async () => {
        const before = ctx.api.downloads().length;
        const web = await vscode.commands.executeCommand<unknown>('multiget.downloadRemoteFolder', { url: ctx.server.url('/pub/'), dir: ctx.dir });
        assertEqual(web, undefined, 'the answer for an http folder');
        // A port nothing listens on: the service's listing fails and the command reports it.
        const closed = await new Promise<number>((resolve) => {
          const probe = net.createServer().listen(0, '127.0.0.1', () => {
            const { port } = probe.address() as net.AddressInfo;
            probe.close(() => resolve(port));
          });
        });
        const ftp = await vscode.commands.executeCommand<unknown>('multiget.downloadRemoteFolder', { url: `ftp://127.0.0.1:${closed}/pub/`, dir: ctx.dir });
        assertEqual(ftp, undefined, 'the answer for a folder that cannot be listed');
        assertEqual(ctx.api.downloads().length, before, 'downloads in the list');
        assertEqual((await fs.readdir(ctx.dir)).includes('pub'), false, 'a local folder for the failed listing');
      },
    },
    {
      name: 'pause and resume by id keep the partial data and complete; the status bar counts it',
      timeoutMs: 90_000,
      fn: async () => {
        const file = randomFile(4 * 1024 * 1024);
        ctx.server.add('/slow.bin', { body: file.body, throttle: 96 * 1024 });
        const id = await download(ctx.server.url('/slow.bin'), ctx.dir);
        await waitFor(() => (find(ctx.api, id)?.bytes ?? 0) > 64 * 1024, 30_000, 'some bytes');
        await waitFor(() => /\$\(sync~spin\) 1 · /.test(ctx.api.statusBarText()), 10_000, `the status bar to count one active download (it says ${ctx.api.statusBarText()})`);
        await vscode.commands.executeCommand('multiget.pause', id);
        const paused = await waitState(ctx.api, id, ['paused'], 15_000);
        assert(paused.bytes > 0, 'a paused download keeps its bytes');
        await vscode.commands.executeCommand('multiget.resume', id);
        const done = await waitState(ctx.api, id, ['completed'], 80_000);
        assertEqual(sha256(await fs.readFile(done.file!)), file.sha256, 'sha256 after pause and resume');
      },
    },
    {
      name: 'cancel and remove by id',
      fn: async () => {
        const file = randomFile(2 * 1024 * 1024);
        ctx.server.add('/cancel.bin', { body: file.body, throttle: 32 * 1024 });
        const id = await download(ctx.server.url('/cancel.bin'), ctx.dir);
        await waitFor(() => (find(ctx.api, id)?.bytes ?? 0) > 0, 30_000, 'some bytes');
        await vscode.commands.executeCommand('multiget.cancel', id);
        await waitState(ctx.api, id, ['canceled'], 15_000);
        await vscode.commands.executeCommand('multiget.remove', id);
        await waitFor(() => find(ctx.api, id) === undefined, 15_000, 'the download to leave the list');
      },
    },
    {
      name: 'an unsupported or malformed URL is refused before it reaches the service',
      fn: async () => {
        const before = ctx.api.downloads().length;
        for (const url of ['javascript:alert(1)', 'file:///etc/passwd', 'not a url', 'http://']) {
          const id = await vscode.commands.executeCommand<string | undefined>('multiget.downloadUrl', { url, dir: ctx.dir });
          assertEqual(id, undefined, `id for ${url}`);
        }
        assertEqual(ctx.api.downloads().length, before, 'number of downloads');
      },
    },
    {
      name: 'the Downloads panel is a single instance',
      fn: async () => {
        await vscode.commands.executeCommand('multiget.showDownloads');
        await vscode.commands.executeCommand('multiget.showDownloads');
        await waitFor(() => ctx.api.panel().open, 10_000, 'the panel to open');
        assertEqual(webviewTabs().length, 1, 'Downloads tabs');
      },
    },
    {
      name: 'malformed panel messages are rejected and act on nothing',
      fn: async () => {
        const file = randomFile(64 * 1024);
        ctx.server.add('/keep.bin', { body: file.body });
        const id = await download(ctx.server.url('/keep.bin'), ctx.dir);
        await waitState(ctx.api, id, ['completed'], 30_000);
        const bad: unknown[] = [
          null,
          'remove',
          [],
          { type: 'action', action: 'remove' },
          { type: 'action', action: 'remove', id, extra: 1 },
          { type: 'action', action: 'delete', id },
          { type: 'action', action: 'remove', id: '../../etc' },
          { type: 'action', action: 'remove', id: 42 },
          { type: 'command', command: 'workbench.action.quit' },
          { type: 'ready', x: 1 },
        ];
        for (const raw of bad) assertEqual(await ctx.api.panelMessage(raw), false, `accepted ${JSON.stringify(raw)}`);
        assert(find(ctx.api, id) !== undefined, 'no malformed message removed the download');
        // A well-formed message for an id the service never gave is accepted but changes nothing.
        assertEqual(await ctx.api.panelMessage({ type: 'action', action: 'remove', id: 'not-a-known-id' }), true, 'well-formed message');
        assertEqual(await ctx.api.panelMessage({ type: 'action', action: 'remove', id }), true, 'remove from the panel');
        await waitFor(() => find(ctx.api, id) === undefined, 10_000, 'the panel’s remove to act');
      },
    },
    {
      name: 'settings are pushed to the service when they change',
      fn: async () => {
        const config = vscode.workspace.getConfiguration('multiget');
        await config.update('connections', 3, vscode.ConfigurationTarget.Global);
        await config.update('rateLimit', '4M', vscode.ConfigurationTarget.Global);
        try {
          await waitFor(async () => {
            const { settings } = await ctx.api.request(GetSettingsRequest.type);
            return settings.connections === 3 && settings.rateLimit === 4 * 1024 * 1024;
          }, 10_000, 'connections 3 and rate limit 4 MiB/s in the service');
        } finally {
          await config.update('connections', undefined, vscode.ConfigurationTarget.Global);
          await config.update('rateLimit', undefined, vscode.ConfigurationTarget.Global);
        }
        await waitFor(async () => (await ctx.api.request(GetSettingsRequest.type)).settings.rateLimit === null, 10_000, 'the rate limit to be lifted');
      },
    },
    {
      name: 'credentials kept in SecretStorage are sent with the download',
      fn: async () => {
        const file = randomFile(256 * 1024);
        const basic = { username: 'ada', password: 's3cret:with colon' };
        ctx.server.add('/private.bin', { body: file.body, basic });
        const host = new URL(ctx.server.origin).host;
        await vscode.commands.executeCommand('multiget.setCredentials', host, basic);
        try {
          const id = await download(ctx.server.url('/private.bin'), ctx.dir);
          const done = await waitState(ctx.api, id, ['completed'], 30_000);
          assertEqual(sha256(await fs.readFile(done.file!)), file.sha256, 'sha256 of the protected file');
        } finally {
          await vscode.commands.executeCommand('multiget.setCredentials', host, null);
        }
        const denied = await download(ctx.server.url('/private.bin') + '?again', path.join(ctx.dir, 'denied'));
        const failed = await waitState(ctx.api, denied, ['failed'], 30_000);
        assertEqual(failed.error?.code, 'MG_ERR_AUTH', 'error code without credentials');
      },
    },
    {
      name: 'a request made while the service restarts waits for it and then runs',
      timeoutMs: 60_000,
      fn: async () => {
        const file = randomFile(128 * 1024);
        ctx.server.add('/during-restart.bin', { body: file.body });
        const before = await ctx.api.whenRunning(10_000);
        const restarting = vscode.commands.executeCommand('multiget.restartService');
        // The restart has begun (its stop is under way) when the request is made.
        await new Promise((r) => setTimeout(r, 50));
        const id = await download(ctx.server.url('/during-restart.bin'), path.join(ctx.dir, 'during-restart'));
        await restarting;
        const done = await waitState(ctx.api, id, ['completed'], 30_000);
        assertEqual(sha256(await fs.readFile(done.file!)), file.sha256, 'sha256 of the file added during the restart');
        const after = ctx.api.status();
        assert(after.kind === 'running' && after.info.pid !== before.pid, 'a new service process');
      },
    },
    {
      name: 'a download with stored credentials, restored by a restarted service, resumes with them (no 401)',
      timeoutMs: 90_000,
      fn: async () => {
        const file = randomFile(3 * 1024 * 1024);
        const basic = { username: 'grace', password: 'held:until-given' };
        ctx.server.add('/held.bin', { body: file.body, basic, throttle: 96 * 1024 });
        const host = new URL(ctx.server.origin).host;
        await vscode.commands.executeCommand('multiget.setCredentials', host, basic);
        try {
          const before = await ctx.api.whenRunning(10_000);
          const id = await download(ctx.server.url('/held.bin'), path.join(ctx.dir, 'held'));
          await waitFor(() => (find(ctx.api, id)?.bytes ?? 0) > 0, 30_000, 'the protected download to start');
          // A crash: the credentials die with the process; the queue on disk has none.
          process.kill(before.pid, 'SIGKILL');
          await waitFor(() => {
            const s = ctx.api.status();
            return s.kind === 'running' && s.info.pid !== before.pid;
          }, 40_000, 'a new service process');
          // waitState throws as soon as it is failed (a 401 would be MG_ERR_AUTH).
          const done = await waitState(ctx.api, id, ['completed'], 60_000);
          assertEqual(done.awaitingCredentials, false, 'awaitingCredentials once resumed');
          assertEqual(sha256(await fs.readFile(done.file!)), file.sha256, 'sha256 of the protected file');
        } finally {
          await vscode.commands.executeCommand('multiget.setCredentials', host, null);
        }
      },
    },
    {
      name: 'the service is restarted after it crashes and the list survives',
      timeoutMs: 60_000,
      fn: async () => {
        const before = await ctx.api.whenRunning(10_000);
        const ids = ctx.api.downloads().map((d) => d.id);
        assert(ids.length > 0, 'earlier tests left downloads in the list');
        process.kill(before.pid, 'SIGKILL');
        const after = await waitFor(() => {
          const s = ctx.api.status();
          return s.kind === 'running' && s.info.pid !== before.pid ? s.info : undefined;
        }, 40_000, 'a new service process');
        assert(after.pid !== before.pid, 'a new process');
        await waitFor(() => ids.every((id) => find(ctx.api, id) !== undefined), 10_000, 'the list to be read again');
      },
    },
    {
      name: 'Restart Service stops the shared service in order and connects to a new one; the list survives',
      timeoutMs: 60_000,
      fn: async () => {
        const before = await ctx.api.whenRunning(10_000);
        const ids = ctx.api.downloads().map((d) => d.id);
        await vscode.commands.executeCommand('multiget.restartService');
        const after = await waitFor(() => {
          const s = ctx.api.status();
          return s.kind === 'running' && s.info.pid !== before.pid ? s.info : undefined;
        }, 40_000, 'a new service process');
        let oldAlive = true;
        try {
          process.kill(before.pid, 0);
        } catch {
          oldAlive = false;
        }
        assert(!oldAlive, `the old service (pid ${before.pid}) stopped`);
        assert(after.pid !== before.pid, 'a new process');
        await waitFor(() => ids.every((id) => find(ctx.api, id) !== undefined), 10_000, 'the list to be read again');
      },
    },
  ];
}

/** Runs the suite and returns its report (never throws for a failed test). */
export async function runSuite(): Promise<SuiteReport> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'multiget-host-'));
  const server = await startFileServer();
  try {
    const api = await extensionApi();
    await api.whenRunning(60_000);
    return await runTests(tests({ api, server, dir }));
  } finally {
    await server.close();
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The @vscode/test-electron entry: runs the suite and rejects if any test failed. */
export async function run(): Promise<void> {
  const report = await runSuite();
  if (report.failed > 0) {
    throw new Error(`${report.failed} of ${report.results.length} in-host tests failed:\n${report.results.filter((r) => !r.ok).map((r) => `- ${r.name}: ${r.error}`).join('\n')}`);
  }
}
