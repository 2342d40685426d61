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
import { readFile, rename } from 'node:fs/promises';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, startHttpServer, type GeneratedContent, type HttpTestServer } from '@multiget/test-servers';
import {
  keepFailure,
  openSession,
  runFromPalette,
  submitFromPalette,
  screenshot,
  type CodeServer,
  type Session,
} from './support/codeServer.mts';

const A: GeneratedContent = { size: 256 * 1024, seed: 21 };
const B: GeneratedContent = { size: 384 * 1024, seed: 22 };
const DROPPED: GeneratedContent = { size: 3 * 1024 * 1024, seed: 23 };

// What the drop code below uses of the DOM; it runs inside the webview's frame, where the DOM is.
// (Declared here, for this module only: the test program is compiled without the DOM library.)
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
  let session: Session | undefined;
  let page: Page;
  let frame: FrameLocator;

  beforeAll(async () => {
    http = await startHttpServer();
    http.addFile('/alpha.bin', A);
    http.addFile('/beta.bin', B);
    http.addFile('/dropped.bin', DROPPED, { faults: { throttleBytesPerSec: 1024 * 1024 } });
    // Slow enough to change its limits while it runs: 8 connections of 64 KiB/s each.
    http.addFile('/slow.bin', { size: 16 * 1024 * 1024, seed: 24 }, { faults: { throttleBytesPerSec: 64 * 1024 } });
    session = await openSession({ 'workbench.colorTheme': 'Default Light Modern' });
    ({ server, page, frame } = session);
  }, 25 * 60_000);

  afterAll(async () => {
    await session?.close('e2e-panel-code-server');
    await http?.close();
  }, 60_000);

  /** Keeps a screenshot and the panel's markup of the moment a step failed. */
  const onFailure = <T,>(name: string, body: () => Promise<T>): Promise<T> => keepFailure(page, name, 'panel', body);

  const downloadFromPalette = (url: string): Promise<void> => submitFromPalette(page, 'Multiget: Download URL', url, 'Saves into');

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
    const body = frame.locator('body');
    const data = await body.evaluateHandle((_: unknown, link: string) => {
      const d = new DataTransfer();
      d.setData('text/uri-list', `# dragged link\r\n${link}\r\n`);
      d.setData('text/plain', link);
      return d;
    }, url);
    const fire = async (type: string): Promise<boolean> =>
      await body.evaluate((target: DropTarget, [t, d]: readonly [string, DataTransfer]) => target.dispatchEvent(new DragEvent(t, { bubbles: true, cancelable: true, dataTransfer: d })), [type, data] as const);
    // The panel accepts the drag (prevents the default) and shows where to drop.
    expect(await fire('dragenter')).toBe(false);
    expect(await fire('dragover')).toBe(false);
    await frame.locator('#drop-hint', { hasText: 'Drop to download the links' }).waitFor({ state: 'visible' });
    await screenshot(page, 'e2e-panel-4-drop-hint-dark');
    expect(await fire('drop')).toBe(false);
    await frame.locator('#drop-hint').waitFor({ state: 'hidden' });

    const row = frame.locator('li.download', { hasText: 'dropped.bin' });
    await row.locator('.state', { hasText: /Connecting|Downloading|Queued/ }).waitFor({ state: 'visible', timeout: 60_000 });
    await screenshot(page, 'e2e-panel-5-dropped-dark');
    await row.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 120_000 });
    const file = path.join(server!.workspace, 'dropped.bin');
    expect(await fileSha256(file)).toBe(sha256(DROPPED));
    expect(await visibleNames()).toEqual(['dropped.bin']);
    await screenshot(page, 'e2e-panel-6-completed-dark');

    // A file dragged from the Explorer is not a download: a warning names it, nothing is added. The
    // completion's toast (it has buttons, so it stays) is cleared first: the screenshot shows the warning.
    await runFromPalette(page, 'Notifications: Clear All Notifications');
    await expect.poll(() => page.locator('.notification-toast').count(), { timeout: 10_000 }).toBe(0);
    await frame.locator('body').evaluate((body: DropTarget) => {
      const data = new DataTransfer();
      data.setData('text/uri-list', 'file:///etc/hostname\r\n');
      for (const type of ['dragenter', 'dragover', 'drop']) body.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
    });
    await page.locator('.notification-toast', { hasText: 'not added 1: file:///etc/hostname' }).waitFor({ state: 'visible', timeout: 30_000 });
    expect(await frame.locator('li.download').count()).toBe(1);
    await screenshot(page, 'e2e-panel-7-refused-dark');
  }), 300_000);

  /** Drops one link on the panel (the whole drag sequence in one go). */
  async function dropLink(link: string): Promise<void> {
    await frame.locator('body').evaluate((target: DropTarget, l: string) => {
      const d = new DataTransfer();
      d.setData('text/uri-list', `${l}\r\n`);
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: d }));
    }, link);
  }

  /** The modal dialog VS Code shows in the browser, by its message. */
  function dialog(message: string) {
    return page.locator('.monaco-dialog-box', { hasText: message });
  }

  it('copies the URL, sets a running download’s speed limit and connections, downloads again, and deletes a file', () => onFailure('e2e-panel-rows', async () => {
    const row = frame.locator('li.download', { hasText: 'dropped.bin' }).first();
    const url = http!.url('/dropped.bin');

    // Copy URL: the clipboard holds the URL.
    await row.getByRole('button', { name: 'Copy URL dropped.bin' }).click();
    await expect.poll(async () => await page.evaluate('navigator.clipboard.readText()'), { timeout: 15_000 }).toBe(url);

    // Speed & Connections on a running download: the limit applies at once, the connections after
    // "Restart Now" (a pause and resume that keeps the data).
    await dropLink(http!.url('/slow.bin'));
    const slow = frame.locator('li.download', { hasText: 'slow.bin' });
    await expect.poll(async () => (await slow.locator('.connections').textContent()) ?? '', { timeout: 60_000 }).toMatch(/^([3-8]) connections$/);
    await slow.getByRole('button', { name: 'Speed & Connections… slow.bin' }).click();
    const quickInput = page.locator('.quick-input-widget');
    await quickInput.locator('.quick-input-title', { hasText: 'speed limit for slow.bin' }).waitFor({ state: 'visible' });
    await quickInput.locator('input').first().fill('512K');
    await quickInput.locator('input').first().press('Enter');
    await quickInput.locator('.quick-input-title', { hasText: 'connections for slow.bin' }).waitFor({ state: 'visible' });
    await quickInput.locator('input').first().fill('2');
    await screenshot(page, 'e2e-panel-8-limits-dark');
    await quickInput.locator('input').first().press('Enter');
    const toast = page.locator('.notification-toast', { hasText: '2 connections apply when it next starts' });
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(async () => (await slow.locator('.limit').textContent()) ?? '').toBe('limit 512.0 KiB/s');
    await toast.getByRole('button', { name: 'Restart Now' }).click();
    await expect.poll(async () => (await slow.locator('.connections').textContent()) ?? '', { timeout: 60_000 }).toBe('2 connections');
    await slow.getByRole('button', { name: 'Pause slow.bin' }).click();
    await slow.locator('.state', { hasText: 'Paused' }).waitFor({ state: 'visible', timeout: 30_000 });

    // Download Again, as a new file next to the old one: exact bytes under a free name.
    await row.getByRole('button', { name: 'Download Again… dropped.bin' }).click();
    await dialog('Download “dropped.bin” again?').waitFor({ state: 'visible' });
    await screenshot(page, 'e2e-panel-9-download-again-dark');
    await dialog('Download “dropped.bin” again?').getByRole('button', { name: 'Save as New File' }).click();
    const again = frame.locator('li.download', { hasText: 'dropped.1.bin' }).first();
    await again.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 120_000 });
    expect(await fileSha256(path.join(server!.workspace, 'dropped.1.bin'))).toBe(sha256(DROPPED));
    expect(await visibleNames()).toEqual(['dropped.1.bin', 'slow.bin', 'dropped.bin']);

    // Download Again, replacing: the same name, the served bytes, no second copy.
    await again.getByRole('button', { name: 'Download Again… dropped.1.bin' }).click();
    await dialog('Download “dropped.1.bin” again?').getByRole('button', { name: 'Replace' }).click();
    await expect.poll(visibleNames, { timeout: 30_000 }).toEqual(['dropped.1.bin', 'dropped.1.bin', 'slow.bin', 'dropped.bin']);
    const replaced = frame.locator('li.download').first();
    await replaced.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 120_000 });
    expect(await fileSha256(path.join(server!.workspace, 'dropped.1.bin'))).toBe(sha256(DROPPED));
    expect(existsSync(path.join(server!.workspace, 'dropped.1.1.bin'))).toBe(false);
    expect(existsSync(path.join(server!.workspace, 'dropped.2.bin'))).toBe(false);

    // Delete File: a modal names the file; then the file and its row are gone.
    const original = frame.locator('li.download').filter({ has: frame.locator('.name', { hasText: /^dropped\.bin$/ }) });
    await original.getByRole('button', { name: 'Delete File… dropped.bin' }).click();
    const confirm = dialog('Delete “dropped.bin” from disk?');
    await confirm.waitFor({ state: 'visible' });
    await expect(confirm.textContent()).resolves.toContain(path.join(server!.workspace, 'dropped.bin'));
    await screenshot(page, 'e2e-panel-10-delete-dark');
    await confirm.getByRole('button', { name: 'Delete File' }).click();
    await expect.poll(visibleNames, { timeout: 30_000 }).toEqual(['dropped.1.bin', 'dropped.1.bin', 'slow.bin']);
    expect(existsSync(path.join(server!.workspace, 'dropped.bin'))).toBe(false);
    expect(existsSync(path.join(server!.workspace, 'dropped.1.bin'))).toBe(true);

    // A file moved away outside Multiget: Open says so and offers to download it again.
    await rename(path.join(server!.workspace, 'dropped.1.bin'), path.join(server!.workspace, 'moved.bin'));
    await again.getByRole('button', { name: 'Open dropped.1.bin' }).click();
    const missing = page.locator('.notification-toast', { hasText: 'dropped.1.bin is no longer there (moved or deleted)' });
    await missing.waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(async () => await missing.locator('.monaco-button').allTextContents()).toEqual(expect.arrayContaining(['Download Again…', 'Remove from List']));

    await setTheme('Dark High Contrast', 'vscode-high-contrast');
    await screenshot(page, 'e2e-panel-11-high-contrast');
  }), 300_000);
});
