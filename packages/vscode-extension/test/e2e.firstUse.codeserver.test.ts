/**
 * The front door, end to end in a real VS Code (code-server driven by headless Chromium), as a new
 * user meets it: "Multiget: Download URL" as the very first action of a fresh window, without
 * waiting for the service; the box opening without an error toast in a browser that grants no
 * clipboard access; several URLs pasted at once; typing into an editor right after adding a
 * download; a window reload during a download from a host whose credentials are stored.
 *
 * Every scenario ends in exact bytes on disk (sha256). Screenshots in light and dark theme go to
 * test-artifacts/firstuse-*.png.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, startHttpServer, type GeneratedContent, type HttpTestServer } from '@multiget/test-servers';
import {
  CHROMIUM_PATH,
  ensureCodeServer,
  keepFailure,
  launchChromium,
  packageVsix,
  panelFrame,
  runFromPalette,
  saveLog,
  screenshot,
  startCodeServer,
  statusBarItem,
  type CodeServer,
} from './support/codeServer.mts';

const SMALL: GeneratedContent = { size: 1024 * 1024, seed: 21 };
const MANY: GeneratedContent[] = [1, 2, 3].map((i) => ({ size: 256 * 1024 + i, seed: 30 + i }));
const TYPED: GeneratedContent = { size: 512 * 1024, seed: 41 };
const SAVE_AS: GeneratedContent = { size: 300 * 1024, seed: 61 };
const MIRRORED: GeneratedContent = { size: 6 * 1024 * 1024, seed: 71 };
// Per response: slow enough that several connections are open on both servers at once.
const MIRRORED_THROTTLE = 1024 * 1024;
const REMOVED: GeneratedContent = { size: 8 * 1024 * 1024, seed: 81 };
const CANCELED: GeneratedContent = { size: 96 * 1024 * 1024, seed: 91 };
// Per response: with 8 connections about 6 MiB/s, past the 8 MiB question threshold in a few seconds.
const CANCELED_THROTTLE = 768 * 1024;
const PRIVATE: GeneratedContent = { size: 64 * 1024 * 1024, seed: 51 };
// Per response: with 8 connections about 0.5 MiB/s.
const REMOVED_THROTTLE = 64 * 1024;
// Until the service restarts, private.bin takes two minutes (8 connections: 0.5 MiB/s for 64 MiB),
// so the reload and the restart land mid-download even on a loaded machine (a 16 MiB file finished
// during a slow reload); the new service's requests then go fast.
const PRIVATE_CRAWL = 64 * 1024;
const PRIVATE_FAST = 4 * 1024 * 1024;
const BASIC = { username: 'ada', password: 's3cret:with colon' };

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Error toasts now, by their text. */
async function errorToasts(page: Page): Promise<string[]> {
  return await page.locator('.notification-toast').filter({ has: page.locator('.codicon-error') }).allTextContents();
}

describe('the front door in code-server', () => {
  let http: HttpTestServer | undefined;
  let mirror: HttpTestServer | undefined;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext;
  let page: Page;

  /** Switches the colour theme through its picker (theme names change between releases: the first dark one). */
  async function setDarkTheme(): Promise<void> {
    await runFromPalette(page, 'Preferences: Color Theme');
    const picker = quickInput().locator('input').first();
    await picker.fill('dark');
    const row = quickInput().locator('.monaco-list-row', { hasText: /Dark/ }).filter({ hasNotText: /High Contrast/ }).first();
    await row.waitFor({ state: 'visible' });
    await row.click();
    await quickInput().waitFor({ state: 'hidden' });
    const classes = async (): Promise<string[]> => ((await page.locator('.monaco-workbench').getAttribute('class')) ?? '').split(/\s+/);
    await expect.poll(classes, { timeout: 30_000 }).toContain('vs-dark');
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
    const [entry, vsix] = await Promise.all([ensureCodeServer(), packageVsix()]);
    http = await startHttpServer();
    http.addFile('/first.bin', SMALL);
    MANY.forEach((c, i) => http!.addFile(`/many-${i + 1}.bin`, c));
    http.addFile('/typed.bin', TYPED);
    http.addFile('/saveas.bin', SAVE_AS);
    http.addFile('/mirrored.bin', MIRRORED, { faults: { throttleBytesPerSec: MIRRORED_THROTTLE } });
    mirror = await startHttpServer();
    mirror.addFile('/pub/mirrored.bin', MIRRORED, { faults: { throttleBytesPerSec: MIRRORED_THROTTLE } });
    http.addFile('/removed.bin', REMOVED, { faults: { throttleBytesPerSec: REMOVED_THROTTLE } });
    http.addFile('/canceled.bin', CANCELED, { faults: { throttleBytesPerSec: CANCELED_THROTTLE } });
    http.addFile('/private.bin', PRIVATE, { auth: BASIC, faults: { throttleBytesPerSec: PRIVATE_CRAWL } });
    server = await startCodeServer({
      entry,
      vsix,
      // Completion toasts off: three of them at once would push the paste's summary out of sight.
      settings: { 'workbench.colorTheme': 'Default Light Modern', 'multiget.notifyOnComplete': false },
    });
    browser = await launchChromium();
    // As a user whose browser was never asked for clipboard access: no permission granted.
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
  }, 25 * 60_000);

  afterAll(async () => {
    if (server !== undefined) await saveLog(server, 'firstuse-code-server');
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await http?.close();
    await mirror?.close();
  }, 60_000);

  /** Keeps a screenshot and the quick input box's markup of the moment a step failed. */
  const onFailure = <T,>(name: string, body: () => Promise<T>): Promise<T> => keepFailure(page, name, 'quick-input', body);

  const quickInput = (): ReturnType<Page['locator']> => page.locator('.quick-input-widget');

  async function openDownloadBox(): Promise<ReturnType<Page['locator']>> {
    await runFromPalette(page, 'Multiget: Download URL');
    await quickInput().locator('.quick-input-title', { hasText: 'Multiget: Download URL' }).waitFor({ state: 'visible' });
    return quickInput().locator('input').first();
  }

  /**
   * The default keybinding, pressed as soon as the workbench shows. The first presses can come
   * before the workbench has read the extension's contributions; a user presses again, so do we
   * (bounded). Resolves the box's input.
   */
  async function openDownloadBoxByKey(): Promise<ReturnType<Page['locator']>> {
    const title = quickInput().locator('.quick-input-title', { hasText: 'Multiget: Download URL' });
    for (let attempt = 0; ; attempt++) {
      await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 }, force: true }).catch(() => undefined);
      await page.keyboard.press('Control+Alt+D');
      try {
        await title.waitFor({ state: 'visible', timeout: 2000 });
        return quickInput().locator('input').first();
      } catch (err) {
        if (attempt >= 30) throw err;
      }
    }
  }

  it('Download URL as the very first action of a fresh window (no wait) ends in the exact file, with no error toast', () => onFailure('firstuse-1', async () => {
    await page.goto(server!.workbenchUrl, { waitUntil: 'domcontentloaded', timeout: 60_000 });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
    // No wait for the status bar or the service: straight to the keybinding.
    const box = await openDownloadBoxByKey();
    await box.fill(http!.url('/first.bin'));
    // The status item's icon says where the service stood: loading (starting) or cloud-download (running).
    const statusAtEnter = (await statusBarItem(page).locator('.codicon').first().getAttribute('class').catch(() => null)) ?? '(no status item yet)';
    await box.press('Enter');
    process.stderr.write(`[firstuse] status bar when Enter was pressed: ${statusAtEnter}\n`);
    // Whether this run met the service still starting depends on the machine's speed; the in-host
    // suite's "request made while the service restarts" makes that case certain.
    const row = panelFrame(page).locator('li.download', { hasText: 'first.bin' });
    await row.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 90_000 });
    expect(await errorToasts(page)).toEqual([]);
    expect(await page.locator('.notification-toast', { hasText: 'could not add' }).count()).toBe(0);
    expect(await fileSha256(path.join(server!.workspace, 'first.bin'))).toBe(sha256(SMALL));
    await screenshot(page, 'firstuse-1-light-completed');
  }), 240_000);

  it('opens the box without an error toast in a browser that grants no clipboard access', () => onFailure('firstuse-2', async () => {
    // This page may not read the clipboard: no suggestion, and no toast about it.
    for (let i = 0; i < 2; i++) {
      const box = await openDownloadBox();
      // Long enough for a refused clipboard read to have raised its toast.
      await page.waitForTimeout(1500);
      expect(await box.inputValue()).toBe('');
      expect(await errorToasts(page)).toEqual([]);
      expect(await page.locator('.notification-toast', { hasText: /clipboard/i }).count()).toBe(0);
      await screenshot(page, `firstuse-2-light-box-${i + 1}`);
      await box.press('Escape');
      await quickInput().waitFor({ state: 'hidden' });
    }
  }), 120_000);

  it('turns several URLs pasted at once into several downloads, names what it skipped, and saves each file exactly', () => onFailure('firstuse-3', async () => {
    await setDarkTheme();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server!.origin });
    const list = [http!.url('/many-1.bin'), `${http!.url('/many-2.bin')},${http!.url('/many-3.bin')}`, 'notaurl'].join('\n');
    // Runs in the page (the DOM's navigator), not in Node.
    await page.evaluate(async (text) => {
      await (globalThis as unknown as { navigator: { clipboard: { writeText(t: string): Promise<void> } } }).navigator.clipboard.writeText(text);
    }, list);
    const box = await openDownloadBox();
    await box.fill('');
    await box.press('Control+V');
    const message = quickInput().locator('.quick-input-message');
    await expect.poll(async () => (await message.textContent()) ?? '').toMatch(/3 of 4 will be added; skipped: "notaurl": This is not a URL/);
    await screenshot(page, 'firstuse-3-dark-several-urls');
    await box.press('Enter');
    const summary = page.locator('.notification-toast', { hasText: 'Added 3, skipped 1: "notaurl"' });
    await summary.waitFor({ state: 'visible', timeout: 60_000 });
    for (const [i, content] of MANY.entries()) {
      const name = `many-${i + 1}.bin`;
      await panelFrame(page).locator('li.download', { hasText: name }).locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 60_000 });
      expect(await fileSha256(path.join(server!.workspace, name))).toBe(sha256(content));
    }
    // multiget.notifyOnComplete: false silences completions.
    expect(await page.locator('.notification-toast', { hasText: 'Downloaded many-' }).count()).toBe(0);
    await screenshot(page, 'firstuse-3-dark-summary');
  }), 180_000);

  it('keeps the keyboard in the editor after adding a download: typing goes on reaching the editor', () => onFailure('firstuse-4', async () => {
    await runFromPalette(page, 'File: New Untitled Text File');
    const editor = page.locator('.editor-group-container.active .monaco-editor').first();
    await editor.waitFor({ state: 'visible' });
    await editor.click();
    await page.keyboard.type('before ');
    const box = await openDownloadBox();
    await box.fill(http!.url('/typed.bin'));
    await box.press('Enter');
    // As soon as the box is gone (keys pressed while it is still up belong to it), before the panel is there.
    await quickInput().waitFor({ state: 'hidden' });
    await page.keyboard.type('after');
    await panelFrame(page).locator('li.download', { hasText: 'typed.bin' }).locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 60_000 });
    await page.keyboard.type(' and more');
    await expect.poll(async () => ((await editor.locator('.view-lines').textContent()) ?? '').replace(/\u00a0/g, ' ')).toBe('before after and more');
    // The panel opened beside the editor, which is still visible.
    expect(await editor.isVisible()).toBe(true);
    expect(await fileSha256(path.join(server!.workspace, 'typed.bin'))).toBe(sha256(TYPED));
    await screenshot(page, 'firstuse-4-dark-editor-kept');
  }), 120_000);

  it('saves a single URL under the name chosen with "Save as…", refusing a path and an existing name as typed', () => onFailure('firstuse-6', async () => {
    const box = await openDownloadBox();
    await box.fill(http!.url('/saveas.bin'));
    await quickInput().getByRole('button', { name: /Save as/ }).click();
    const message = quickInput().locator('.quick-input-message');
    await expect.poll(async () => (await message.textContent()) ?? '').toContain('then asks for the file name');
    await box.press('Enter');
    await quickInput().locator('.quick-input-title', { hasText: 'Multiget: save as' }).waitFor({ state: 'visible' });
    const nameBox = quickInput().locator('input').first();
    await expect.poll(async () => await nameBox.inputValue()).toBe('saveas.bin');
    await nameBox.fill('../escape.bin');
    await expect.poll(async () => (await message.textContent()) ?? '').toContain('A file name, not a path');
    await nameBox.fill('typed.bin');
    await expect.poll(async () => (await message.textContent()) ?? '').toContain('typed.bin exists in');
    await nameBox.fill('My report.bin');
    await expect.poll(async () => (await message.textContent()) ?? '').not.toContain('exists');
    await screenshot(page, 'firstuse-6-dark-save-as');
    await nameBox.press('Enter');
    await panelFrame(page).locator('li.download', { hasText: 'My report.bin' }).locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 60_000 });
    expect(await fileSha256(path.join(server!.workspace, 'My report.bin'))).toBe(sha256(SAVE_AS));
    expect(existsSync(path.join(server!.workspace, 'saveas.bin'))).toBe(false);
    expect(existsSync(path.join(path.dirname(server!.workspace), 'escape.bin'))).toBe(false);
  }), 120_000);

  it('reads one file from two servers with "Same file from several servers", as one download', () => onFailure('firstuse-9', async () => {
    const box = await openDownloadBox();
    await box.fill(`${http!.url('/mirrored.bin')} ${mirror!.url('/pub/mirrored.bin')}`);
    const message = quickInput().locator('.quick-input-message');
    await expect.poll(async () => (await message.textContent()) ?? '').toContain('2 URLs.');
    await quickInput().getByRole('button', { name: /Same file from several servers/ }).click();
    await expect.poll(async () => (await message.textContent()) ?? '').toContain('2 URLs of one file (mirrors)');
    await screenshot(page, 'firstuse-9-dark-mirrors');
    await box.press('Enter');
    const rows = panelFrame(page).locator('li.download', { hasText: 'mirrored.bin' });
    await rows.first().locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 90_000 });
    expect(await rows.count()).toBe(1);
    expect(await fileSha256(path.join(server!.workspace, 'mirrored.bin'))).toBe(sha256(MIRRORED));
    // Both servers served ranges of the file (beyond the probe and the 16 KiB sample).
    const ranged = (s: HttpTestServer, p: string): number => s.requests(p).filter((r) => r.bytesSent > 64 * 1024 && r.headers.range !== 'bytes=0-').length;
    expect(ranged(mirror!, '/pub/mirrored.bin')).toBeGreaterThan(0);
    expect(ranged(http!, '/mirrored.bin')).toBeGreaterThan(0);
  }), 150_000);

  it('Remove on a running download asks about its partial data and deletes it by default', () => onFailure('firstuse-7', async () => {
    const box = await openDownloadBox();
    await box.fill(http!.url('/removed.bin'));
    await box.press('Enter');
    const row = panelFrame(page).locator('li.download', { hasText: 'removed.bin' });
    await row.locator('.state', { hasText: 'Downloading' }).waitFor({ state: 'visible', timeout: 60_000 });
    const part = path.join(server!.workspace, 'removed.bin.mgpart');
    await expect.poll(() => existsSync(part), { timeout: 30_000 }).toBe(true);
    await row.getByRole('button', { name: 'Remove removed.bin' }).click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.filter({ hasText: 'Remove removed.bin from the list?' }).waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toMatch(/(of partial data|Its partial data) is on disk next to .*removed\.bin\. Delete it too/);
    await screenshot(page, 'firstuse-7-dark-remove-question');
    await dialog.getByRole('button', { name: 'Remove and Delete Partial Data' }).click();
    await row.waitFor({ state: 'detached', timeout: 30_000 });
    await expect.poll(() => existsSync(part), { timeout: 30_000 }).toBe(false);
    expect(existsSync(path.join(server!.workspace, 'removed.bin.mgstate'))).toBe(false);
    expect(existsSync(path.join(server!.workspace, 'removed.bin'))).toBe(false);
  }), 120_000);

  it('Cancel asks before it deletes more than 8 MiB, and then deletes the partial data', () => onFailure('firstuse-8', async () => {
    const box = await openDownloadBox();
    await box.fill(http!.url('/canceled.bin'));
    await box.press('Enter');
    const row = panelFrame(page).locator('li.download', { hasText: 'canceled.bin' });
    await expect.poll(async () => (await row.locator('.bytes').textContent()) ?? '', { timeout: 60_000 }).toMatch(/^(?:9|\d\d)\.\d MiB of 96\.0 MiB$/);
    await row.getByRole('button', { name: 'Cancel canceled.bin' }).click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.filter({ hasText: /^.*Cancel canceled\.bin\? The [\d.]+ MiB downloaded so far will be deleted\./ }).waitFor({ state: 'visible' });
    await screenshot(page, 'firstuse-8-dark-cancel-question');
    await dialog.getByRole('button', { name: 'Cancel and Delete' }).click();
    await row.locator('.state', { hasText: 'Canceled' }).waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(() => existsSync(path.join(server!.workspace, 'canceled.bin.mgpart')), { timeout: 30_000 }).toBe(false);
    expect(existsSync(path.join(server!.workspace, 'canceled.bin'))).toBe(false);
  }), 120_000);

  it('keeps a download from a host with stored credentials going through a window reload, and resumes it with them after a service restart, without a 401, to the exact file', () => onFailure('firstuse-5', async () => {
    const host = new URL(http!.origin).host;
    await runFromPalette(page, 'Multiget: Set Credentials for Host…');
    const hostBox = quickInput().locator('input').first();
    await quickInput().locator('.quick-input-title', { hasText: 'HTTP Basic or Bearer, FTP/FTPS login, SFTP password' }).waitFor({ state: 'visible' });
    await hostBox.fill(host);
    await hostBox.press('Enter');
    await quickInput().locator('.monaco-list-row', { hasText: 'User name and password' }).click();
    await quickInput().locator('.quick-input-title', { hasText: `User name for ${host}` }).waitFor({ state: 'visible' });
    await quickInput().locator('input').first().fill(BASIC.username);
    await quickInput().locator('input').first().press('Enter');
    await quickInput().locator('.quick-input-title', { hasText: `Password for ${BASIC.username}@${host}` }).waitFor({ state: 'visible' });
    await quickInput().locator('input').first().fill(BASIC.password);
    await quickInput().locator('input').first().press('Enter');
    await page.locator('.notification-toast', { hasText: `credentials for ${host} are stored` }).waitFor({ state: 'visible' });

    const box = await openDownloadBox();
    await box.fill(http!.url('/private.bin'));
    await box.press('Enter');
    const row = panelFrame(page).locator('li.download', { hasText: 'private.bin' });
    await row.locator('.state', { hasText: 'Downloading' }).waitFor({ state: 'visible', timeout: 60_000 });
    await expect.poll(async () => (await row.locator('.bytes').textContent()) ?? '', { timeout: 30_000 }).toMatch(/^[1-9][\d.]* (KiB|MiB) of 64\.0 MiB$/);
    // The engine's sidecars are hidden from the Explorer (configurationDefaults' files.exclude),
    // while the Explorer does show files as they appear (typed.bin from the test before).
    const explorerRows = page.locator('.explorer-folders-view .monaco-list-row');
    await explorerRows.filter({ hasText: 'typed.bin' }).first().waitFor({ state: 'visible' });
    expect(await explorerRows.filter({ hasText: /\.mg(part|state|lock)$/ }).count()).toBe(0);
    await screenshot(page, 'firstuse-5-dark-before-reload');
    // A reload leaves the shared service running: the download goes on under the new window.
    await runFromPalette(page, 'Developer: Reload Window');
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90_000 });
    const restored = panelFrame(page).locator('li.download', { hasText: 'private.bin' });
    await restored.locator('.state', { hasText: 'Downloading' }).waitFor({ state: 'visible', timeout: 60_000 });
    await screenshot(page, 'firstuse-5-dark-after-reload');

    // A new service process knows no credentials (they live in memory only): the download comes
    // back held, and the extension resumes it with the host's credentials from secret storage.
    const requestsBefore = http!.requests('/private.bin').length;
    http!.setFaults('/private.bin', { throttleBytesPerSec: PRIVATE_FAST });
    await runFromPalette(page, 'Multiget: Restart Service');
    await restored.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 120_000 });
    await screenshot(page, 'firstuse-5-dark-after-restart');

    const requests = http!.requests('/private.bin');
    // Resumed by the new service (new range requests), every one with the credentials.
    expect(requests.length).toBeGreaterThan(requestsBefore);
    expect(requests.filter((r) => r.status === 401)).toEqual([]);
    expect(requests.slice(requestsBefore).every((r) => (r.headers['authorization'] ?? '').startsWith('Basic '))).toBe(true);
    expect(await errorToasts(page)).toEqual([]);
    expect(await fileSha256(path.join(server!.workspace, 'private.bin'))).toBe(sha256(PRIVATE));
  }), 300_000);
});
