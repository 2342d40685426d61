/**
 * End to end in a real VS Code: the packaged .vsix installed into code-server, the workbench driven
 * in headless Chromium by playwright-core. "Multiget: Download URL" from the palette against a
 * local throttled test server; the Downloads panel (read inside the webview's frames) shows
 * progress; pause and resume from the panel's buttons; completion and its notification; the
 * file's sha256 on disk. Then the in-extension-host suite runs in the same code-server.
 *
 * Screenshots and code-server's log go to test-artifacts/. Needs /usr/bin/chromium (Debian's
 * chromium package) and, the first time, a few minutes to install code-server into ~/.cache.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, startHttpServer, type GeneratedContent, type HttpTestServer } from '@multiget/test-servers';
import {
  CHROMIUM_PATH,
  SUITE_PATH,
  ensureCodeServer,
  keepFailure,
  launchChromium,
  openWorkbench,
  packageVsix,
  panelFrame,
  runFromPalette,
  runSelfTests,
  saveLog,
  screenshot,
  startCodeServer,
  statusBarItem,
  type CodeServer,
} from './support/codeServer.mts';

const CONTENT: GeneratedContent = { size: 16 * 1024 * 1024, seed: 6 };
// Per response, so 8 connections fetch ~1.25 MiB/s: slow enough to watch, pause and resume.
const THROTTLE = 160 * 1024;

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('the extension in code-server', () => {
  let http: HttpTestServer | undefined;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const results = path.join(os.tmpdir(), `multiget-self-tests-${process.pid}.json`);

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
    const [entry, vsix] = await Promise.all([ensureCodeServer(), packageVsix()]);
    http = await startHttpServer();
    http.addFile('/big.bin', CONTENT, { faults: { throttleBytesPerSec: THROTTLE } });
    server = await startCodeServer({
      entry,
      vsix,
      env: { MULTIGET_SELF_TEST_SUITE: SUITE_PATH, MULTIGET_SELF_TEST_RESULTS: results },
    });
    browser = await launchChromium();
    page = await openWorkbench(browser, server);
  }, 25 * 60_000);

  afterAll(async () => {
    if (server !== undefined) await saveLog(server, 'e2e-code-server');
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await http?.close();
    await rm(results, { force: true });
  }, 60_000);

  /** Keeps a screenshot and the quick input box's markup of the moment a step failed. */
  const onFailure = <T,>(name: string, body: () => Promise<T>): Promise<T> => keepFailure(page, name, 'quick-input', body);

  it('downloads a URL from the palette, shows progress in the panel, pauses and resumes from it, and saves the right bytes', () => onFailure('e2e', async () => {
    const url = http!.url('/big.bin');
    await runFromPalette(page, 'Multiget: Download URL');

    const quickInput = page.locator('.quick-input-widget');
    await quickInput.locator('.quick-input-title', { hasText: 'Multiget: Download URL' }).waitFor({ state: 'visible' });
    const box = quickInput.locator('input').first();
    // Validated as typed: a scheme the service never serves is refused before Enter.
    await box.fill('javascript:alert(1)');
    await quickInput.locator('.quick-input-message', { hasText: 'cannot download "javascript:"' }).waitFor({ state: 'visible' });
    await box.fill(url);
    await expect.poll(async () => (await quickInput.locator('.quick-input-message').textContent()) ?? '').toContain('Saves into');
    await screenshot(page, 'e2e-0-download-url-box');
    await box.press('Enter');

    const frame = panelFrame(page);
    const row = frame.locator('li.download', { hasText: 'big.bin' });
    await row.locator('.state', { hasText: 'Downloading' }).waitFor({ state: 'visible', timeout: 60_000 });
    await expect.poll(async () => (await row.locator('.bytes').textContent()) ?? '', { timeout: 30_000 }).toMatch(/^[1-9][\d.]* (KiB|MiB) of 16\.0 MiB$/);
    await expect.poll(async () => (await row.locator('.speed').textContent()) ?? '', { timeout: 30_000 }).toMatch(/\/s$/);
    await expect.poll(async () => (await statusBarItem(page).textContent()) ?? '', { timeout: 30_000 }).toMatch(/1 · [\d.]+ (B|KiB|MiB)\/s/);
    await screenshot(page, 'e2e-1-downloading');

    await row.getByRole('button', { name: 'Pause big.bin' }).click();
    await row.locator('.state', { hasText: 'Paused' }).waitFor({ state: 'visible', timeout: 30_000 });
    const pausedAt = (await row.locator('.bytes').textContent()) ?? '';
    expect(pausedAt).not.toMatch(/^16\.0 MiB of/);
    await screenshot(page, 'e2e-2-paused');

    // By keyboard: the Resume button is a real button that takes focus and Enter.
    await row.getByRole('button', { name: 'Resume big.bin' }).press('Enter');
    await row.locator('.state', { hasText: /Downloading|Connecting|Queued|Completed/ }).waitFor({ state: 'visible', timeout: 30_000 });
    await row.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 180_000 });
    expect(await row.locator('.bytes').textContent()).toBe('16.0 MiB of 16.0 MiB');
    const toast = page.locator('.notification-toast', { hasText: 'Downloaded big.bin' });
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(async () => await toast.locator('.monaco-button').allTextContents()).toEqual(expect.arrayContaining(['Open', 'Reveal in Explorer']));
    await screenshot(page, 'e2e-3-completed');

    // Multiget: Show Log opens the Multiget channel, with the service's own lines at the channel's
    // level (Info by default): the download's start and end, among others.
    await runFromPalette(page, 'Multiget: Show Log');
    const logLines = page.locator('.part.panel .view-lines');
    await expect.poll(async () => (await logLines.textContent()) ?? '', { timeout: 30_000 }).toMatch(/\[service\]\s+done\s+download=/);
    // Debug lines (state changes) are not sent to a channel at Info.
    expect((await logLines.textContent()) ?? '').not.toMatch(/\[service\]\s+state\s/);
    await screenshot(page, 'e2e-3b-show-log');

    // The default folder is the first workspace folder; the file there has the served bytes.
    const file = path.join(server!.workspace, 'big.bin');
    expect(existsSync(file)).toBe(true);
    expect(await fileSha256(file)).toBe(sha256(CONTENT));
    // Resumed, not restarted: the server saw ranges after the pause.
    expect(http!.requests('/big.bin').filter((r) => r.status === 206).length).toBeGreaterThan(1);

    // A window reload: the panel comes back (serializer) and re-reads the list from the service.
    await runFromPalette(page, 'Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
    const restored = panelFrame(page).locator('li.download', { hasText: 'big.bin' });
    await restored.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 90_000 });
    await screenshot(page, 'e2e-4-after-reload');
  }), 300_000);

  it('passes the in-extension-host suite inside code-server', async () => {
    const report = await runSelfTests(page, results, 300_000);
    await screenshot(page, 'e2e-5-self-tests');
    expect(report.error).toBeUndefined();
    const failed = (report.results ?? []).filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}`);
    expect(failed).toEqual([]);
    expect(report.passed).toBeGreaterThanOrEqual(10);
  }, 330_000);
});
