/**
 * End to end in a real VS Code (code-server driven by Chromium), in a dark theme: while a download
 * runs with several connections, its row in the Downloads panel shows a segment map (done, each
 * connection's bytes in flight in its own colour, left) and the panel's footer shows the service's
 * CPU time and memory; once it completed (after a pause and resume), "Export Trace…" on the row
 * saves its trace through VS Code's save dialog, and the saved file is a valid trace of both runs
 * whose spans of the resumed run add up to what was left. The
 * screenshots (the map in dark, high-contrast and light themes) go to test-artifacts/.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTrace, type TraceFile } from '@multiget/core';
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

// Runs inside the webview's frame, where the DOM is (the test program is compiled without the DOM library).
declare function getComputedStyle(element: unknown): { backgroundColor: string };

// 8 connections (the extension's default) of at most 64 KiB/s each: over two minutes, so the map
// is looked at in three themes while it surely runs; then the throttle goes and a pause and resume
// (new requests) finish it.
const SLOW: GeneratedContent = { size: 64 * 1024 * 1024, seed: 31 };

async function fileSha256(file: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('segment map, resource footer and Export Trace in code-server', () => {
  let http: HttpTestServer | undefined;
  let server: CodeServer | undefined;
  let session: Session | undefined;
  let page: Page;
  let frame: FrameLocator;

  beforeAll(async () => {
    http = await startHttpServer();
    http.addFile('/slow.bin', SLOW, { faults: { throttleBytesPerSec: 64 * 1024 } });
    session = await openSession({ 'workbench.colorTheme': 'Default Dark Modern' });
    ({ server, page, frame } = session);
  }, 25 * 60_000);

  afterAll(async () => {
    await session?.close('e2e-insight-code-server');
    await http?.close();
  }, 60_000);

  /** Keeps a screenshot and the panel's markup of the moment a step failed. */
  const onFailure = <T,>(name: string, body: () => Promise<T>): Promise<T> => keepFailure(page, name, 'panel', body);

  const downloadFromPalette = (url: string): Promise<void> => submitFromPalette(page, 'Multiget: Download URL', url, 'Saves into');

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

  it('shows the segment map and the service’s resource use while a download runs, then exports its trace', () => onFailure('e2e-insight', async () => {
    await runFromPalette(page, 'Multiget: Show Downloads');
    await frame.locator('body').waitFor({ state: 'visible' });
    await expect.poll(async () => await frame.locator('body').getAttribute('class'), { timeout: 30_000 }).toContain('vscode-dark');
    // The footer asks the service even before anything runs.
    const footer = frame.locator('#footer');
    await expect.poll(async () => (await footer.textContent()) ?? '', { timeout: 30_000 }).toMatch(/^Service: CPU .* · memory \d+\.\d (KiB|MiB|GiB) · heap /);

    await downloadFromPalette(http!.url('/slow.bin'));
    const row = frame.locator('li.download', { hasText: 'slow.bin' });
    const map = row.locator('.segment-map');
    // Several connections in flight at once, each block in its own colour, and bytes left.
    await expect.poll(async () => await map.locator('.run.flight').count(), { timeout: 60_000 }).toBeGreaterThan(2);
    await expect.poll(async () => (await map.getAttribute('aria-label')) ?? '').toMatch(/^Segment map: \d+% done, [2-8] connections in flight \(\d+%\), \d+% left$/);
    const colours = await map.locator('.run.flight').evaluateAll((blocks) => [...new Set(blocks.map((b) => getComputedStyle(b).backgroundColor))]);
    expect(colours.length, colours.join(' ')).toBeGreaterThan(1);
    const left = await map.locator('.run.left').count();
    expect(left).toBeGreaterThan(0);
    await screenshot(page, 'e2e-insight-1-segment-map-dark');

    // Live: the map follows the connections (their bytes in flight grow).
    const flightOf = async (): Promise<number> => Number(/in flight \((\d+)%\)/.exec((await map.getAttribute('aria-label')) ?? '')?.[1] ?? -1);
    const before = await flightOf();
    await expect.poll(flightOf, { timeout: 30_000 }).toBeGreaterThan(before);
    await screenshot(page, 'e2e-insight-2-segment-map-later-dark');

    // Readable in the other theme kinds: the same map in their colours.
    for (const [theme, bodyClass, shot] of [
      ['Dark High Contrast', 'vscode-high-contrast', 'e2e-insight-3-segment-map-high-contrast'],
      ['Light Modern', 'vscode-light', 'e2e-insight-4-segment-map-light'],
    ] as const) {
      await setTheme(theme, bodyClass);
      await expect.poll(async () => await map.locator('.run.flight').count(), { timeout: 30_000 }).toBeGreaterThan(0);
      await screenshot(page, shot);
    }

    http!.setFaults('/slow.bin', {});
    await row.getByRole('button', { name: 'Pause slow.bin', exact: true }).click();
    await row.locator('.state', { hasText: 'Paused' }).waitFor({ state: 'visible', timeout: 30_000 });
    await map.waitFor({ state: 'hidden' });
    await row.getByRole('button', { name: 'Resume slow.bin', exact: true }).click();
    await row.locator('.state', { hasText: 'Completed' }).waitFor({ state: 'visible', timeout: 120_000 });
    expect(await fileSha256(path.join(server!.workspace, 'slow.bin'))).toBe(sha256(SLOW));
    await map.waitFor({ state: 'hidden' });

    // Export Trace…: VS Code's save dialog, a path, Enter.
    await row.getByRole('button', { name: 'Export Trace… slow.bin', exact: true }).click();
    const quickInput = page.locator('.quick-input-widget');
    await quickInput.waitFor({ state: 'visible' });
    const box = quickInput.locator('input').first();
    await expect.poll(async () => await box.inputValue()).toMatch(/slow\.bin\.trace\.json$/);
    await screenshot(page, 'e2e-insight-5-export-dialog-light');
    const target = path.join(server!.workspace, 'exported.trace.json');
    await box.fill(target);
    await box.press('Enter');
    await page.locator('.notification-toast', { hasText: 'saved the trace of slow.bin' }).waitFor({ state: 'visible', timeout: 30_000 });
    const trace = JSON.parse(await readFile(target, 'utf8')) as TraceFile;
    expect(checkTrace(trace)).toEqual([]);
    // Both runs are in it: the one paused, and the resumed one, which wrote what was left.
    const starts = trace.traceEvents.filter((e) => e.ph === 'i' && e.name === 'start');
    expect(starts).toHaveLength(2);
    const last = starts[1]!;
    const spans = trace.traceEvents.filter((e) => e.ph === 'X' && e.name === 'range');
    expect(spans.some((e) => e.ts < last.ts && e.args!['outcome'] === 'aborted')).toBe(true);
    const resumedRun = spans.filter((e) => e.pid === last.pid && e.ts >= last.ts);
    expect(new Set(resumedRun.map((e) => e.tid)).size).toBeGreaterThan(1);
    const resumedBytes = last.args!['resumedBytes'] as number;
    expect(resumedBytes).toBeGreaterThan(0);
    expect(resumedRun.reduce((a, e) => a + (e.args!['bytes'] as number), 0)).toBe(SLOW.size - resumedBytes);

  }), 300_000);
});
