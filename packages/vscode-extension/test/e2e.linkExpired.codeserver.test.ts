/**
 * End to end in a real VS Code (code-server driven by Chromium): a link that expires mid-download,
 * as presigned URLs do (aria2 #2197). The download from the expiring server stops with its row
 * saying "Link expired" and a notification offering "Update link…"; the row's "Update link…"
 * asks for a new link (typed: the web UI reads no clipboard), and the download continues from the
 * bytes it kept to the exact file. Screenshots go to test-artifacts/e2e-link-*.png.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, startHttpServer, type GeneratedContent, type HttpTestServer } from '@multiget/test-servers';
import {
  keepFailure,
  openSession,
  submitFromPalette,
  screenshot,
  type CodeServer,
  type Session,
} from './support/codeServer.mts';

const MiB = 1024 * 1024;
const SIGNED: GeneratedContent = { size: 6 * MiB, seed: 71 };

describe('a link that expires mid-download, in code-server', () => {
  let http: HttpTestServer | undefined;
  let server: CodeServer | undefined;
  let session: Session | undefined;
  let page: Page;
  let frame: FrameLocator;

  beforeAll(async () => {
    http = await startHttpServer();
    // Each signed link carries 3 MiB; paced (about 0.75 MiB/s over 8 connections), so the panel
    // shows the download running for a few seconds before the link expires.
    http.addFile('/signed.iso', SIGNED, { faults: { signedLinks: { afterBytes: 3 * MiB }, throttleBytesPerSec: 96 * 1024 } });
    session = await openSession({ 'workbench.colorTheme': 'Default Light Modern' });
    ({ server, page, frame } = session);
  }, 25 * 60_000);

  afterAll(async () => {
    await session?.close('e2e-link-code-server');
    await http?.close();
  }, 60_000);

  /** Keeps a screenshot and the panel's markup of the moment a step failed. */
  const onFailure = <T,>(name: string, body: () => Promise<T>): Promise<T> => keepFailure(page, name, 'panel', body);

  it('shows "Link expired", takes a new link through "Update link…", and completes with the right bytes', () => onFailure('e2e-link', async () => {
    const first = http!.signUrl('/signed.iso');
    await submitFromPalette(page, 'Multiget: Download URL', first, 'Saves into');
    const quickInput = page.locator('.quick-input-widget');

    const row = frame.locator('li.download', { hasText: 'signed.iso' });
    await row.locator('.state', { hasText: 'Downloading' }).waitFor({ state: 'visible', timeout: 90_000 });
    await screenshot(page, 'e2e-link-1-downloading');

    // The server starts refusing the link: not a failure, a pause that keeps the bytes.
    await row.locator('.state', { hasText: 'Link expired' }).waitFor({ state: 'visible', timeout: 120_000 });
    await expect.poll(async () => (await row.locator('.error').textContent()) ?? '').toContain('bytes downloaded so far are kept');
    // Shown as a warning (a pause waiting for a link), not as a failure.
    expect(await row.getAttribute('data-link-expired')).toBe('');
    const toast = page.locator('.notification-toast', { hasText: 'The link of signed.iso stopped working' });
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(async () => await toast.locator('.monaco-button').allTextContents()).toEqual(expect.arrayContaining(['Update link…']));
    const update = row.getByRole('button', { name: 'Update link… signed.iso', exact: true });
    await update.waitFor({ state: 'visible' });
    expect(await row.getByRole('button', { name: 'Resume signed.iso', exact: true }).count()).toBe(0);
    await screenshot(page, 'e2e-link-2-expired');

    // A new signed link of the same file, with room for the rest.
    http!.setFaults('/signed.iso', { signedLinks: { afterBytes: 64 * MiB } });
    const fresh = http!.signUrl('/signed.iso');
    await update.click();
    await quickInput.locator('.quick-input-title', { hasText: 'new link for signed.iso' }).waitFor({ state: 'visible' });
    // The web UI offers no clipboard suggestion (reading it would cost a browser prompt).
    expect(await quickInput.locator('input').first().inputValue()).toBe('');
    await quickInput.locator('input').first().fill(fresh);
    await screenshot(page, 'e2e-link-3-new-link');
    await quickInput.locator('input').first().press('Enter');
    await quickInput.waitFor({ state: 'hidden' });

    await row.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 120_000 });
    const file = path.join(server!.workspace, 'signed.iso');
    expect(createHash('sha256').update(await readFile(file)).digest('hex')).toBe(sha256(SIGNED));
    await screenshot(page, 'e2e-link-4-completed');
  }), 400_000);
});
