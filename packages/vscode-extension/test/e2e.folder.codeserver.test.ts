/**
 * End to end in a real VS Code (code-server driven by Chromium), as a newcomer meets it: "Multiget:
 * Download Folder…" from the palette, an ftp:// folder URL typed into its box, Enter. Every file of
 * the remote tree lands under the workspace folder (the default download folder) in a folder named
 * after the remote one, each a row of the Downloads panel, with one notification for the folder (none
 * per file); asking again queues nothing and says so.
 * Dark theme; screenshots go to test-artifacts/e2e-folder-*.png.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpTestServer, type GeneratedContent, sha256, startFtpServer } from '@multiget/test-servers';
import {
  keepFailure,
  openSession,
  submitFromPalette,
  screenshot,
  type CodeServer,
  type Session,
} from './support/codeServer.mts';

const KiB = 1024;
const A: GeneratedContent = { size: 700 * KiB, seed: 81 };
const B: GeneratedContent = { size: 300 * KiB + 5, seed: 82 };

describe('Download Folder… in code-server', () => {
  let ftp: FtpTestServer | undefined;
  let server: CodeServer | undefined;
  let session: Session | undefined;
  let page: Page;
  let frame: FrameLocator;

  beforeAll(async () => {
    ftp = await startFtpServer();
    ftp.addFile('/pub/set/a.bin', A);
    ftp.addFile('/pub/set/sub/b.bin', B);
    session = await openSession({ 'workbench.colorTheme': 'Default Dark Modern' });
    ({ server, page, frame } = session);
  }, 25 * 60_000);

  afterAll(async () => {
    await session?.close('e2e-folder-code-server');
    await ftp?.close();
  }, 60_000);

  /** Keeps a screenshot and the panel's markup of the moment a step failed. */
  const onFailure = <T,>(name: string, body: () => Promise<T>): Promise<T> => keepFailure(page, name, 'panel', body);

  const downloadFolder = (url: string): Promise<void> => submitFromPalette(page, 'Multiget: Download Folder', url, 'Saves it as a folder in');

  it('queues every file of an ftp:// folder into a folder named after it, each a row, and nothing the second time', () => onFailure('e2e-folder', async () => {
    const url = ftp!.url('/pub/set/');
    const folder = path.join(server!.workspace, 'set');
    await downloadFolder(url);
    await page.locator('.notification-toast', { hasText: `queued 2 files into ${folder}` }).waitFor({ state: 'visible', timeout: 60_000 });
    for (const name of ['a.bin', 'b.bin']) {
      await frame.locator('li.download', { hasText: name }).locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 90_000 });
    }
    expect(sha256(await readFile(path.join(folder, 'a.bin')))).toBe(sha256(A));
    expect(sha256(await readFile(path.join(folder, 'sub', 'b.bin')))).toBe(sha256(B));
    // One notification for the folder, none per file (a folder of a thousand files says it once).
    await page.locator('.notification-toast', { hasText: 'Downloaded folder set (2 files)' }).waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator('.notification-toast', { hasText: 'Downloaded a.bin' }).count()).toBe(0);
    expect(await page.locator('.notification-toast', { hasText: 'Downloaded b.bin' }).count()).toBe(0);
    await screenshot(page, 'e2e-folder-1-dark-completed');

    // The same folder again: both files are there, so nothing is queued and the toast says why.
    await downloadFolder(url);
    await page
      .locator('.notification-toast', { hasText: `nothing to download: all 2 files are already in ${folder}` })
      .waitFor({ state: 'visible', timeout: 60_000 });
    expect(await frame.locator('li.download').count()).toBe(2);
    await screenshot(page, 'e2e-folder-2-dark-nothing-new');
  }), 300_000);
});
