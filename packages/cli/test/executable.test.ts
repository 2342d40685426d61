import { execFile } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { downloadV8Flags } from '@multiget/core/v8-tuning';
import { generateContent, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, Cleanup, cliEnv } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * Writes a preload (for `--require`) that watches `v8.setFlagsFromString` and prints at exit, on
 * stderr, the flags set (`flags: ...`) and the built-ins loaded after the first of them (`built-ins
 * after the flags: ...`). Returns its path.
 */
async function flagRecorder(dir: string): Promise<string> {
  const path = join(dir, 'flag-recorder.cjs');
  await writeFile(
    path,
    [
      "const v8 = require('node:v8');",
      'const set = v8.setFlagsFromString;',
      'const flags = [];',
      'let first;',
      'v8.setFlagsFromString = function (flag) {',
      '  if (first === undefined) first = process.moduleLoadList.length;',
      '  flags.push(flag);',
      '  return set.apply(this, arguments);',
      '};',
      "process.on('exit', () => {",
      "  const after = first === undefined ? ['(no flag was set)'] : process.moduleLoadList.slice(first);",
      "  const names = after.filter((m) => m.startsWith('NativeModule ') || m.startsWith('('));",
      "  process.stderr.write('flags: ' + flags.join(' ') + '\\n');",
      "  process.stderr.write('built-ins after the flags: ' + names.map((m) => m.replace('NativeModule ', '')).join(' ') + '\\n');",
      '});',
    ].join('\n'),
  );
  return path;
}

describe('the multiget executable', () => {
  it('starts cleanly: its V8 tuning prints nothing, and it fills the compile cache it was given', async () => {
    const dir = await cleanup.tempDir();
    const cache = join(dir, 'compile-cache');
    const env = cliEnv({ NODE_COMPILE_CACHE: cache });
    // vitest's V8 coverage sets NODE_DISABLE_COMPILE_CACHE=1 in its workers (for exact figures); the
    // child would inherit it and never fill the cache, so this case must not depend on how tests run.
    delete env.NODE_DISABLE_COMPILE_CACHE;
    const r = await cleanup.run(['--version'], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^multiget \d+\.\d+\.\d+\n$/);
    // An unknown V8 flag would be reported here.
    expect(r.stderr).toBe('');
    expect((await filesUnder(cache)).length).toBeGreaterThan(0);

    const off = join(dir, 'off');
    const r2 = await cleanup.run(['--version'], { cwd: dir, env: cliEnv({ NODE_COMPILE_CACHE: off, NODE_DISABLE_COMPILE_CACHE: '1' }) });
    expect(r2.code).toBe(0);
    expect(await filesUnder(off)).toEqual([]);
  });

  it("loads a download's built-ins before it sets V8 flags, so that they come from Node's code caches", async () => {
    // A flag that changes V8's code generation makes Node's code caches of its own modules stale:
    // a built-in loaded after it is compiled from source (15 ms of start-up in all). Node's internal
    // modules count too: those that building an ES module namespace loads (node:crypto's webcrypto,
    // node:util's parseArgs, ...) were compiled after the flags before the executable built them.
    const dir = await cleanup.tempDir();
    const server = cleanup.server(await startHttpServer());
    server.addFile('/b.bin', generateContent({ size: 256 * 1024, seed: 3 }));
    const env = cliEnv({ NODE_OPTIONS: `--require ${await flagRecorder(dir)}` });
    const r = await cleanup.run(['-q', '-o', join(dir, 'b.bin'), server.url('/b.bin')], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^built-ins after the flags: $/m);
  });

  it.skipIf(process.platform === 'win32')('runs through its shebang with one malloc arena (MALLOC_ARENA_MAX=1) and the semi-space option', async () => {
    // Started as a shell starts it (the file itself, its shebang choosing node from PATH), not as
    // node FILE: glibc reads MALLOC_ARENA_MAX only when the process starts (bin/multiget.js has the
    // figures: many threads' arenas kept 13-23 MiB more resident in a queue of small downloads).
    const dir = await cleanup.tempDir();
    const preload = join(dir, 'report.cjs');
    await writeFile(
      preload,
      "process.on('exit', () => process.stderr.write('arena: ' + process.env.MALLOC_ARENA_MAX + '; ' + process.execArgv.join(' ') + '\\n'));",
    );
    const env = cliEnv({ NODE_OPTIONS: `--require ${preload}`, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` });
    delete env.MALLOC_ARENA_MAX;
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(CLI, ['--version'], { cwd: dir, env, timeout: 30_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^multiget \d+\.\d+\.\d+\n$/);
    expect(r.stderr).toMatch(/^arena: 1; .*--max-semi-space-size=1/m);
  });

  it("keeps undici's HTTP parser (WebAssembly) in V8's baseline compiler however long it runs", async () => {
    // A preload sets V8's tiering budget to one byte, before the executable's own flags: without
    // the executable's tier-up filter the parser's functions would be recompiled by the optimising
    // compiler during the first response (in `many`, after ~1,000: 54 ms of CPU, 24 MB of memory). V8's
    // trace of each wasm compile goes to stdout, which -q leaves empty otherwise.
    const dir = await cleanup.tempDir();
    const server = cleanup.server(await startHttpServer());
    server.addFile('/w.bin', generateContent({ size: 4 * 1024 * 1024, seed: 5 }));
    const preload = join(dir, 'tier-trace.cjs');
    await writeFile(preload, "const v8 = require('node:v8'); v8.setFlagsFromString('--wasm-tiering-budget=1'); v8.setFlagsFromString('--trace-wasm-compilation-times');");
    const env = cliEnv({ NODE_OPTIONS: `--require ${preload}` });
    const r = await cleanup.run(['-q', '-c', '4', '-o', join(dir, 'w.bin'), server.url('/w.bin')], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    // The trace works (the parser was compiled, by Liftoff) and nothing went to the optimising tier.
    expect(r.stdout).toMatch(/^Compiled function .* using Liftoff/m);
    expect(r.stdout).not.toMatch(/using (TurboFan|Turboshaft)/);
  });

  it.runIf(Number(process.versions.node.split('.')[0]) === 24)('on Node 24, optimises JavaScript with Maglev and never with TurboFan', async () => {
    // TurboFan's compiles and code pages cost 3-10 MiB of peak RSS on the bench's profiles for no
    // time or CPU (src/v8Tuning.ts in core). A preload makes a function TurboFan-hot after a few
    // calls once the executable set its first flag (the built-ins it loads before may be optimised
    // by any tier), and has V8 trace each optimisation from then on, to stdout.
    const dir = await cleanup.tempDir();
    const server = cleanup.server(await startHttpServer());
    server.addFile('/j.bin', generateContent({ size: 4 * 1024 * 1024, seed: 6 }));
    const preload = join(dir, 'opt-trace.cjs');
    await writeFile(
      preload,
      [
        "const v8 = require('node:v8');",
        'const set = v8.setFlagsFromString;',
        'let tracing = false;',
        'v8.setFlagsFromString = (flag) => {',
        '  set(flag);',
        '  if (tracing) return;',
        '  tracing = true;',
        "  for (const f of ['--trace-opt', '--invocation-count-for-maglev=20', '--invocation-count-for-turbofan=40']) set(f);",
        '};',
      ].join('\n'),
    );
    const env = cliEnv({ NODE_OPTIONS: `--require ${preload}` });
    const r = await cleanup.run(['-q', '-c', '4', '-o', join(dir, 'j.bin'), server.url('/j.bin')], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/target MAGLEV/);
    expect(r.stdout).not.toMatch(/target TURBOFAN/);
  });

  it('sets the V8 flags its comments give reasons for, and V8 takes each (no warning)', async () => {
    // The heap growth factor, for one: without it a queue of small downloads grew the heap to three
    // times its live size before a full collection (bin/multiget.js has the figures).
    const dir = await cleanup.tempDir();
    const r = await cleanup.run(['--version'], { cwd: dir, env: cliEnv({ NODE_OPTIONS: `--require ${await flagRecorder(dir)}` }) });
    expect(r.code, r.stderr).toBe(0);
    const flags = /^flags: (.*)$/m.exec(r.stderr)?.[1]?.split(' ') ?? [];
    expect(flags).toEqual(downloadV8Flags());
    expect(flags).toContain('--heap-growing-percent=50');
    expect(flags).toContain('--wasm-tier-up-filter=2147483647');
    expect(r.stderr.replace(/^(flags|built-ins after the flags): .*\n/gm, '')).toBe('');
  });
});
