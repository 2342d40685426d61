// One timed run of one tool: GNU time around the command, a deadline, then the bytes checked.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { spawnGroup, stopGroup } from './procs.mjs';

/** Hex SHA-256 of a file, streamed in 4 MiB reads. */
export async function sha256File(file) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk);
  return hash.digest('hex');
}

/** Flushes dirty pages of earlier runs so that their write-back is not billed to the next tool. */
export function syncDisks() {
  spawnSync('sync', [], { stdio: 'ignore', timeout: 120_000 });
}

/** `%e %U %S %M` from GNU time's output file; it may be preceded by "Command exited with ..." lines. */
function parseTime(text) {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    const m = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)$/.exec(line.trim());
    if (m) return { wall: Number(m[1]), user: Number(m[2]), sys: Number(m[3]), maxRssKiB: Number(m[4]) };
  }
  return undefined;
}

const tail = (text, n = 600) => (text.length > n ? `...${text.slice(-n)}` : text).trim();

/**
 * Runs `argv` under GNU time with `timeoutMs`, then checks `outFile` against `expected`
 * ({ size, sha256 }). Never throws for a tool failure: the result says `ok: false` and why.
 */
export async function timedRun({ time, argv, outFile, expected, timeoutMs, workDir, label }) {
  const timeFile = join(workDir, `${label}.time`);
  const started = process.hrtime.bigint();
  const child = spawnGroup(time, ['-f', '%e %U %S %M', '-o', timeFile, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], cwd: workDir });
  let output = '';
  const keep = (d) => { output = (output + d).slice(-8000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; void stopGroup(child, 'SIGTERM', 3000); }, timeoutMs);
  const { code, signal, error } = await child.exited;
  clearTimeout(timer);
  const wallHr = Number(process.hrtime.bigint() - started) / 1e9;
  let measured;
  try { measured = parseTime(await readFile(timeFile, 'utf8')); } catch { measured = undefined; }
  const result = { ok: false, exitCode: code, signal: signal ?? undefined, wallHr, ...measured };
  if (measured) result.cpu = Number((measured.user + measured.sys).toFixed(2));
  if (error) return { ...result, error: `could not start: ${error.message}` };
  if (timedOut) return { ...result, error: `timed out after ${timeoutMs / 1000} s; output: ${tail(output)}` };
  if (code !== 0) return { ...result, error: `exit ${code ?? signal}; output: ${tail(output)}` };
  if (!measured) return { ...result, error: 'GNU time wrote no figures' };
  if (expected.files) return { ...result, ...(await checkFiles(outFile, expected.files)) };
  let size;
  try { size = (await stat(outFile)).size; } catch { return { ...result, error: `no output file; output: ${tail(output)}` }; }
  if (size !== expected.size) return { ...result, error: `wrong size: ${size} bytes, expected ${expected.size}` };
  const digest = await sha256File(outFile);
  if (digest !== expected.sha256) return { ...result, error: `wrong bytes: sha256 ${digest}, expected ${expected.sha256}` };
  return { ...result, ok: true };
}

/** Checks every expected file of a many-files run in `dir`: size and sha256 each. */
export async function checkFiles(dir, files) {
  for (const f of files) {
    let size;
    try { size = (await stat(join(dir, f.name))).size; } catch { return { ok: false, error: `missing ${f.name}` }; }
    if (size !== f.size) return { ok: false, error: `${f.name}: ${size} bytes, expected ${f.size}` };
    const digest = await sha256File(join(dir, f.name));
    if (digest !== f.sha256) return { ok: false, error: `${f.name}: wrong bytes` };
  }
  return { ok: true };
}
