#!/usr/bin/env node
// Adds up the vitest JSON reports every workspace wrote (.vitest-results.json) and prints the plain
// line CI reads: "N passed, N failed[, N skipped]". Exits 1 when a report is missing or counts a failure.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
let passed = 0;
let failed = 0;
let skipped = 0;
let missing = 0;
for (const ws of pkg.workspaces) {
  const file = join(root, ws, '.vitest-results.json');
  let report;
  try {
    report = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    console.error(`no test report from ${ws}`);
    missing++;
    continue;
  }
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // A suite that failed to load counts no test but is a failure all the same.
  failed += (report.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0).length;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || missing > 0 ? 1 : 0);
