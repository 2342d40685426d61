/**
 * One set of downloads per user and machine, whatever happens to the windows: in a real code-server,
 * a download runs in a first browser window; that browser is killed (no unload, no goodbye to the
 * server, as a crash or a lost network does), so its extension host lives on for code-server's
 * reconnection grace time with its connection to the service; a second browser opened afterwards
 * shows the same running download within seconds and pauses it, with no error toast.
 *
 * Screenshots go to test-artifacts/windows-*.png. Needs /usr/bin/chromium and the code-server
 * install of test/support/codeServer.mts.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { Browser, BrowserServer, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type GeneratedContent, type HttpTestServer } from '@multiget/test-servers';
import {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  ensureCodeServer,
  launchChromium,
  multigetServicePid,
  openWorkbench,
  packageVsix,
  panelFrame,
  runFromPalette,
  saveLog,
  screenshot,
  startCodeServer,
  statusBarItem,
  type CodeServer,
} from './support/codeServer.mts';

const CONTENT: GeneratedContent = { size: 48 * 1024 * 1024, seed: 11 };
// Per response: 8 connections fetch ~1 MiB/s, so the download outlives both windows' steps.
const THROTTLE = 128 * 1024;

/**
 * Process ids of the extension hosts of one code-server (Linux /proc: a `--type=extensionHost`
 * process whose environment names the server's temporary root).
 */
function extensionHosts(root: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('--type=extensionHost')) continue;
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(root)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours.
    }
  }
  return pids;
}

/** Text of every notification toast on the page. */
async function toasts(page: Page): Promise<string[]> {
  return await page.locator('.notification-toast').allTextContents();
}

/** Fails if any toast is an error or says what the broken design said. */
async function expectNoErrorToast(page: Page): Promise<void> {
  expect(await page.locator('.notification-toast .codicon-error').count(), (await toasts(page)).join(' | ')).toBe(0);
  for (const text of await toasts(page)) {
    expect(text).not.toMatch(/-3209\d|Pending response rejected|another VS Code window|service is starting|couldn't create connection/i);
  }
}

describe('the extension in two browser windows of one code-server', () => {
  let http: HttpTestServer | undefined;
  let server: CodeServer | undefined;
  let first: BrowserServer | undefined;
  let second: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
    const [entry, vsix] = await Promise.all([ensureCodeServer(), packageVsix()]);
    http = await startHttpServer();
    http.addFile('/shared.bin', CONTENT, { faults: { throttleBytesPerSec: THROTTLE } });
    server = await startCodeServer({ entry, vsix });
  }, 25 * 60_000);

  afterAll(async () => {
    if (server !== undefined) await saveLog(server, 'e2e-windows-code-server');
    await second?.close().catch(() => undefined);
    first?.process().kill('SIGKILL');
    await server?.stop();
    await http?.close();
  }, 60_000);

  it('a window opened after another was killed mid-download sees the running download and pauses it, without an error toast', async () => {
    // The first browser runs as a server process of its own, so that it can be killed outright.
    const { chromium } = await import('playwright-core');
    first = await chromium.launchServer({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 60_000 });
    const firstBrowser = await chromium.connect(first.wsEndpoint());
    const page1 = await openWorkbench(firstBrowser, server!);

    await runFromPalette(page1, 'Multiget: Download URL');
    const quickInput = page1.locator('.quick-input-widget');
    await quickInput.locator('.quick-input-title', { hasText: 'Multiget: Download URL' }).waitFor({ state: 'visible' });
    await quickInput.locator('input').first().fill(http!.url('/shared.bin'));
    await quickInput.locator('input').first().press('Enter');
    const row1 = panelFrame(page1).locator('li.download', { hasText: 'shared.bin' });
    await row1.locator('.state', { hasText: 'Downloading' }).waitFor({ state: 'visible', timeout: 60_000 });
    await expect.poll(async () => (await row1.locator('.bytes').textContent()) ?? '', { timeout: 30_000 }).toMatch(/^[1-9][\d.]* (KiB|MiB) of 48\.0 MiB$/);
    await screenshot(page1, 'windows-1-first-window-downloading');
    const servicePid = await multigetServicePid(server!.userData);
    const [firstHost] = extensionHosts(server!.root);
    expect(firstHost).toBeDefined();

    // The whole first browser dies: no unload, no disconnect message to code-server.
    first.process().kill('SIGKILL');
    await new Promise<void>((resolve) => first!.process().once('exit', () => resolve()));

    second = await launchChromium();
    const page2 = await openWorkbench(second, server!);
    // The status bar counts the running download as soon as this window is connected.
    await expect.poll(async () => (await statusBarItem(page2).textContent()) ?? '', { timeout: 30_000 }).toMatch(/1 · [\d.]+ (B|KiB|MiB)\/s/);
    await runFromPalette(page2, 'Multiget: Show Downloads');
    const row2 = panelFrame(page2).locator('li.download', { hasText: 'shared.bin' });
    await row2.locator('.state', { hasText: 'Downloading' }).waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(async () => (await row2.locator('.bytes').textContent()) ?? '', { timeout: 30_000 }).toMatch(/^[1-9][\d.]* (KiB|MiB) of 48\.0 MiB$/);
    await screenshot(page2, 'windows-2-second-window-sees-it');
    // The same service still runs it: nothing was restarted or taken over.
    expect(servicePid).toBeDefined();
    expect(await multigetServicePid(server!.userData)).toBe(servicePid);
    await expectNoErrorToast(page2);
    // The scenario of the bug: the dead window's extension host is still there (code-server keeps
    // it for its reconnection grace time), next to the new window's.
    expect(extensionHosts(server!.root)).toEqual(expect.arrayContaining([firstHost]));
    expect(extensionHosts(server!.root).length).toBe(2);

    await row2.getByRole('button', { name: 'Pause shared.bin' }).click();
    await row2.locator('.state', { hasText: 'Paused' }).waitFor({ state: 'visible', timeout: 30_000 });
    const pausedAt = (await row2.locator('.bytes').textContent()) ?? '';
    expect(pausedAt).not.toMatch(/^48\.0 MiB of/);
    await screenshot(page2, 'windows-3-second-window-paused');
    await expectNoErrorToast(page2);
  }, 600_000);
});
