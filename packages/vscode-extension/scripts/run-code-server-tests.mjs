#!/usr/bin/env node
// Runs the in-extension-host suite (src/test/suite) inside a real VS Code: code-server 4.139 from
// npm (installed once into ~/.cache/multiget or $XDG_CACHE_HOME/multiget), the packaged .vsix
// installed into a fresh extensions folder, the workbench opened in headless Chromium, and the
// hidden command "Multiget: Run Self Tests" run from the palette. code-server has no way to start
// an extension-test run from outside, hence the command, which exists only when the host was
// started with MULTIGET_SELF_TEST_SUITE. Exit code 0 when every test passed.
//
//   node scripts/run-code-server-tests.mjs [--keep]   (--keep leaves the temporary folders)
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import {
  SUITE_PATH,
  ensureCodeServer,
  launchChromium,
  openWorkbench,
  packageVsix,
  runSelfTests,
  saveLog,
  screenshot,
  startCodeServer,
} from '../test/support/codeServer.mts';

const keep = process.argv.includes('--keep');
const started = Date.now();
const entry = await ensureCodeServer();
const vsix = await packageVsix();
const resultsDir = process.env.TMPDIR || '/tmp';
const results = path.join(resultsDir, `multiget-self-tests-${process.pid}.json`);
const server = await startCodeServer({
  entry,
  vsix,
  env: { MULTIGET_SELF_TEST_SUITE: SUITE_PATH, MULTIGET_SELF_TEST_RESULTS: results },
});
let browser;
let status = 1;
// A hard stop, whatever hangs: nothing here may outlive 10 minutes.
const watchdog = setTimeout(async () => {
  process.stderr.write('run-code-server-tests: timed out after 10 minutes\n');
  await server.stop(keep);
  process.exit(1);
}, 10 * 60_000);
try {
  browser = await launchChromium();
  const page = await openWorkbench(browser, server);
  const report = await runSelfTests(page, results, 5 * 60_000);
  await screenshot(page, 'self-tests');
  for (const r of report.results ?? []) {
    process.stdout.write(`${r.ok ? '✓' : '✗'} ${r.name} (${r.durationMs} ms)\n${r.ok ? '' : `    ${String(r.error).replace(/\n/g, '\n    ')}\n`}`);
  }
  if (report.error) process.stdout.write(`The suite did not run: ${report.error}\n`);
  process.stdout.write(`${report.passed ?? 0} passed, ${report.failed ?? 0} failed\n`);
  status = report.error === undefined && (report.failed ?? 1) === 0 && (report.passed ?? 0) > 0 ? 0 : 1;
} catch (err) {
  process.stderr.write(`run-code-server-tests: ${err instanceof Error ? err.stack : String(err)}\n`);
} finally {
  await saveLog(server, 'self-tests-code-server');
  await browser?.close().catch(() => undefined);
  await server.stop(keep);
  await rm(results, { force: true });
  clearTimeout(watchdog);
}
process.stdout.write(`in-host suite in code-server: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
process.exit(status);
