/**
 * End to end in a real VS Code (code-server driven by Chromium): the Downloads panel as a browser
 * download list. Two downloads added from the palette complete and show newest first with their
 * added and finished times; the filter box narrows the list (by keyboard too); Clear completed
 * empties it and leaves the files; a link dropped on the panel (a real DragEvent with a
 * DataTransfer, dispatched inside the webview's frame) becomes a download whose file has the
 * served bytes, and a dropped `file:` link is refused with a warning. Screenshots in a light and a
 * dark theme go to test-artifacts/.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, startHttpServer, type GeneratedContent, type HttpTestServer } from '@multiget/test-servers';
import {
  ARTIFACTS_DIR,
  CHROMIUM_PATH,
  ensureCodeServer,
  launchChromium,
  openWorkbench,
  packageVsix,
  panelFrame,
  runFromPalette,
  saveLog,
  screenshot,
  startCodeServer,
  type CodeServer,
} from './support/codeServer.mts';

const A: GeneratedContent = { size: 256 * 1024, seed: 21 };
const B: GeneratedContent = { size: 384 * 1024, seed: 22 };
const DROPPED: GeneratedContent = { size: 3 * 1024 * 1024, seed: 23 };

// What the drop code below uses of the DOM; it runs inside the webview's frame, where the DOM is.
// (Declared here, for this module only: the test program is compiled without the DOM library.)
declare const document: { getElementById(id: string): { hidden: boolean } | null };
declare class DataTransfer {
  setData(type: string, data: string): void;
}
declare class DragEvent {
  constructor(type: string, init: { bubbles: boolean; cancelable: boolean; dataTransfer: DataTransfer });
}
interface DropTarget {
  dispatchEvent(event: DragEvent): boolean;
}

async function fileSha256(file: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('the Downloads panel in code-server', () => {
  let http: HttpTestServer | undefined;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let frame: FrameLocator;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
    const [entry, vsix] = await Promise.all([ensureCodeServer(), packageVsix()]);
    http = await startHttpServer();
    http.addFile('/alpha.bin', A);
    http.addFile('/beta.bin', B);
    http.addFile('/dropped.bin', DROPPED, { faults: { throttleBytesPerSec: 1024 * 1024 } });
    server = await startCodeServer({ entry, vsix, settings: { 'workbench.colorTheme': 'Default Light Modern' } });
    browser = await launchChromium();
    page = await openWorkbench(browser, server);
    frame = panelFrame(page);
  }, 25 * 60_000);

  afterAll(async () => {
    if (server !== undefined) await saveLog(server, 'e2e-panel-code-server');
    await browser?.close().catch(() => undefined);
    await server?.stop();
    await http?.close();
  }, 60_000);

  /** Keeps a screenshot and the panel's markup of the moment a step failed. */
  async function onFailure<T>(name: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      await screenshot(page, `${name}-failure`).catch(() => undefined);
      const html = await frame.locator('body').evaluate((e) => e.outerHTML, undefined, { timeout: 5000 }).catch(() => '');
      await writeFile(path.join(ARTIFACTS_DIR, `${name}-panel.html`), html).catch(() => undefined);
      throw err;
    }
  }

  async function downloadFromPalette(url: string): Promise<void> {
    await runFromPalette(page, 'Multiget: Download URL');
    const quickInput = page.locator('.quick-input-widget');
    await quickInput.locator('.quick-input-title', { hasText: 'Multiget: Download URL' }).waitFor({ state: 'visible' });
    const box = quickInput.locator('input').first();
    await box.fill(url);
    await expect.poll(async () => (await quickInput.locator('.quick-input-message').textContent()) ?? '').toContain('Saves into');
    await box.press('Enter');
    await quickInput.waitFor({ state: 'hidden' });
  }

  /** The names of the rows the panel shows now (hidden ones left out), top to bottom. */
  async function visibleNames(): Promise<string[]> {
    return await frame.locator('li.download:visible .name').allTextContents();
  }

  /** Switches the colour theme from the palette, as a user does, and waits for the webview to follow. */
  async function setTheme(theme: string, bodyClass: string): Promise<void> {
    await runFromPalette(page, 'Preferences: Color Theme');
    const quickInput = page.locator('.quick-input-widget');
    const box = quickInput.locator('input').first();
    await box.fill(theme);
    await quickInput.locator('.monaco-list-row', { hasText: new RegExp(`^${theme}`) }).first().waitFor({ state: 'visible' });
    await box.press('Enter');
    await quickInput.waitFor({ state: 'hidden' });
    await expect.poll(async () => await frame.locator('body').getAttribute('class'), { timeout: 30_000 }).toContain(bodyClass);
  }

  it('shows two completed downloads newest first with their times, filters them, and Clear completed empties the list', () => onFailure('e2e-panel-list', async () => {
    await downloadFromPalette(http!.url('/alpha.bin'));
    const alpha = frame.locator('li.download', { hasText: 'alpha.bin' });
    await alpha.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 90_000 });
    await downloadFromPalette(http!.url('/beta.bin'));
    const beta = frame.locator('li.download', { hasText: 'beta.bin' });
    await beta.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 90_000 });

    // Newest first, as browsers list downloads.
    expect(await visibleNames()).toEqual(['beta.bin', 'alpha.bin']);
    // Added and finished, each with a date and a time (the browser's locale: digits and a colon).
    await expect.poll(async () => (await beta.locator('.times').textContent()) ?? '', { timeout: 30_000 }).toMatch(/^Added .*\d.*\d:\d\d.* · Finished .*\d:\d\d/);
    await expect(frame.locator('button[data-command="clearCompleted"]').isEnabled()).resolves.toBe(true);
    for (const name of ['Open', 'Reveal', 'Download Again…', 'Copy URL', 'Delete File…', 'Remove']) {
      await beta.getByRole('button', { name: `${name} beta.bin`, exact: true }).waitFor({ state: 'visible' });
    }
    await screenshot(page, 'e2e-panel-1-completed-light');

    // The filter, by keyboard: "/" jumps to it from anywhere in the panel.
    await beta.getByRole('button', { name: 'Open beta.bin' }).focus();
    await page.keyboard.press('/');
    const filter = frame.getByRole('searchbox', { name: 'Filter downloads by name, URL or state' });
    await expect.poll(async () => await filter.evaluate((e) => e.ownerDocument.activeElement === e)).toBe(true);
    await page.keyboard.type('alpha');
    await expect.poll(visibleNames).toEqual(['alpha.bin']);
    await screenshot(page, 'e2e-panel-2-filtered-light');
    await filter.fill('completed beta');
    await expect.poll(visibleNames).toEqual(['beta.bin']);
    await filter.fill('no-such-download');
    await expect.poll(visibleNames).toEqual([]);
    await frame.locator('#no-match', { hasText: 'No downloads match “no-such-download”.' }).waitFor({ state: 'visible' });
    await filter.press('Escape');
    await expect.poll(visibleNames).toEqual(['beta.bin', 'alpha.bin']);

    await frame.getByRole('button', { name: 'Clear completed' }).click();
    await expect.poll(async () => await frame.locator('li.download').count(), { timeout: 30_000 }).toBe(0);
    await frame.locator('#empty').waitFor({ state: 'visible' });
    await expect(frame.locator('button[data-command="clearCompleted"]').isDisabled()).resolves.toBe(true);
    // The files are the user's: cleared from the list, not from the disk.
    expect(await fileSha256(path.join(server!.workspace, 'alpha.bin'))).toBe(sha256(A));
    expect(await fileSha256(path.join(server!.workspace, 'beta.bin'))).toBe(sha256(B));
    await screenshot(page, 'e2e-panel-3-cleared-light');
  }), 300_000);

  it('downloads a link dropped on the panel to the exact file, and refuses a dropped file: link', () => onFailure('e2e-panel-drop', async () => {
    // By its label in the theme picker (its settings id is "Default Dark Modern").
    await setTheme('Dark Modern', 'vscode-dark');
    const url = http!.url('/dropped.bin');
    // A real drag and drop, as a browser delivers it: dragenter, dragover, drop, with one DataTransfer.
    const dragged = await frame.locator('body').evaluate((body: DropTarget, link: string) => {
      const data = new DataTransfer();
      data.setData('text/uri-list', `# dragged link\r\n${link}\r\n`);
      data.setData('text/plain', link);
      const fire = (type: string): boolean => body.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
      const accepted = !fire('dragenter') && !fire('dragover');
      const hint = document.getElementById('drop-hint')?.hidden === false;
      fire('drop');
      return { accepted, hint, hintAfter: document.getElementById('drop-hint')?.hidden === false };
    }, url);
    // The panel accepted the drag (prevented the default), showed its drop hint, and hid it after.
    expect(dragged).toEqual({ accepted: true, hint: true, hintAfter: false });

    const row = frame.locator('li.download', { hasText: 'dropped.bin' });
    await row.locator('.state', { hasText: /Connecting|Downloading|Queued/ }).waitFor({ state: 'visible', timeout: 60_000 });
    await screenshot(page, 'e2e-panel-4-dropped-dark');
    await row.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 120_000 });
    const file = path.join(server!.workspace, 'dropped.bin');
    expect(await fileSha256(file)).toBe(sha256(DROPPED));
    expect(await visibleNames()).toEqual(['dropped.bin']);
    await screenshot(page, 'e2e-panel-5-completed-dark');

    // A file dragged from the Explorer is not a download: a warning names it, nothing is added.
    await frame.locator('body').evaluate((body: DropTarget) => {
      const data = new DataTransfer();
      data.setData('text/uri-list', 'file:///etc/hostname\r\n');
      for (const type of ['dragenter', 'dragover', 'drop']) body.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
    });
    await page.locator('.notification-toast', { hasText: 'not added 1: file:///etc/hostname' }).waitFor({ state: 'visible', timeout: 30_000 });
    expect(await frame.locator('li.download').count()).toBe(1);
    await screenshot(page, 'e2e-panel-6-refused-dark');
    await setTheme('Dark High Contrast', 'vscode-high-contrast');
    await screenshot(page, 'e2e-panel-7-high-contrast');
  }), 300_000);
});
