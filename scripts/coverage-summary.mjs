#!/usr/bin/env node
// Prints one table of the coverage every workspace measured (coverage/coverage-summary.json, written
// when the tests ran with MULTIGET_COVERAGE=1) next to the thresholds in its vitest config, and names
// the packages whose threshold can go up (the thresholds only ever rise; vitest itself fails a test
// run that falls below them). Exits 1 when a workspace wrote no summary: coverage is measured for all.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const METRICS = ['lines', 'branches', 'functions', 'statements'];

/** The thresholds passed to coverageConfig({...}) in a workspace's vitest config, if found. */
async function thresholdsOf(ws) {
  for (const name of ['vitest.config.ts', 'vitest.config.mts']) {
    const text = await readFile(join(root, ws, name), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const found = {};
    for (const m of METRICS) {
      const hit = new RegExp(`\\b${m}:\\s*(\\d+(?:\\.\\d+)?)`).exec(text);
      if (hit) found[m] = Number(hit[1]);
    }
    return found;
  }
  return {};
}

const rows = [];
const canRise = [];
let missing = 0;
for (const ws of pkg.workspaces) {
  const name = JSON.parse(await readFile(join(root, ws, 'package.json'), 'utf8')).name;
  let summary;
  try {
    summary = JSON.parse(await readFile(join(root, ws, 'coverage', 'coverage-summary.json'), 'utf8')).total;
  } catch {
    rows.push([name, 'no coverage report', '', '', '']);
    missing++;
    continue;
  }
  const limits = await thresholdsOf(ws);
  const cell = (m) => `${summary[m].pct.toFixed(2)} (min ${limits[m] ?? '-'})`;
  rows.push([name, cell('lines'), cell('branches'), cell('functions'), cell('statements')]);
  const rise = METRICS.filter((m) => limits[m] !== undefined && Math.floor(summary[m].pct) > limits[m]);
  if (rise.length) canRise.push(`${name}: ${rise.map((m) => `${m} ${limits[m]} -> ${Math.floor(summary[m].pct)}`).join(', ')}`);
}

const head = ['package', 'lines %', 'branches %', 'functions %', 'statements %'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
if (canRise.length) console.log(`\nthresholds that can go up (edit the package's vitest config):\n  ${canRise.join('\n  ')}`);
process.exit(missing > 0 ? 1 : 0);
