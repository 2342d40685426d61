#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=1
// The `multiget` executable. npm links it at install time, before `prepare` builds dist/, so it
// must exist in the repository; it stays plain JavaScript of an old enough dialect that any Node.js
// can run it far enough to say which version is needed.
//
// MALLOC_ARENA_MAX=1 (glibc; elsewhere ignored): one malloc arena for all threads. By default each
// thread that allocates gets an arena of its own, and each keeps the high-water mark of what its
// thread once held: V8's compiler threads' working memory (6-10 MiB each) and libuv's workers' stay
// resident beside the main arena. `npm run bench`'s `many` (1,020 files, -j 8): peak RSS 113-122 MiB
// against 127-145 (5 runs each), the same time; one 256 MiB download 81-87 against 85-89 MiB. The
// shebang sets it since glibc reads it only when the process starts (npm's Windows shims keep it
// too, where it means nothing).
//
// --max-semi-space-size=1: socket reads arrive as fresh ArrayBuffers that are freed only when the
// young generation is scavenged; with V8's default 16 MiB semi-spaces, 16 connections pile up ~100 MiB
// of them between scavenges. A 1 MiB semi-space keeps peak RSS near 120 MiB for any file size and
// also cut user CPU time by a third in `npm run bench` (measured on a 1 GiB download).
const REQUIRED = [22, 19];
const [major, minor] = process.versions.node.split('.').map(Number);

if (major < REQUIRED[0] || (major === REQUIRED[0] && minor < REQUIRED[1])) {
  process.stderr.write(
    'multiget: Node.js >= ' + REQUIRED.join('.') + ' is required, but this is ' + process.version +
      ' (' + process.execPath + ').\n' +
      'multiget: install a newer Node.js, or run it through npx inside the Multiget repository.\n',
  );
  process.exit(1);
}

// V8 flags, set before anything runs. node:v8 through require: an import() of it builds its whole
// namespace, whose lazy getters load heap_utils and node:stream (about 20 ms of start-up).
// - Count memory outside V8's heap (socket and file buffers) in its heap limits (Node 24's V8 only,
//   where it was measured: an unknown flag would be reported on stderr). With the default, a
//   transfer that keeps a few MiB of buffers in flight for longer than two young-generation
//   collections sets off a full collection every ~25 ms (15 of them in a 256 MiB SFTP download with
//   8 transfers, against 1 with the flag; 0.2 s of CPU).
// - Keep WebAssembly, that is undici's HTTP parser (llhttp), in V8's baseline compiler (Liftoff)
//   for the whole run. It reads only status lines, headers and chunk sizes (a body is skipped in
//   one step per read), yet once it had run long enough V8 recompiled its one large function with
//   its optimising compiler in the background: 54 ms of CPU and 24 MB of that compiler's working
//   memory (`--trace-wasm-compilation-times`), peak RSS 13-15 MiB higher at that moment, more than
//   the faster parser ever gave back in a command's run. A larger tiering budget (used before) only
//   postponed it: `npm run bench`'s `many` (1,000 responses) still reached it. `--liftoff-only`
//   works only on the command line, where any flag makes Node's code caches stale (15 ms of
//   start-up, see below); set here it is ignored. What works here: V8 tiers up only the function
//   whose index `--wasm-tier-up-filter` names, when it names one, and no module has a function at
//   2^31-1 (V8 allows a million per module), so none tiers up, and Liftoff leaves out its budget
//   checks. The flag exists in Node 22's and 24's V8.
// - Free each optimising (Maglev) compile job's memory on the main thread as it finishes
//   (`--no-maglev-destroy-on-background`) rather than in a background task: a queue of small
//   downloads makes hundreds of functions hot at about the same time (878 Maglev compiles in
//   `many`, up to 40 in flight), and their jobs' memory waited for the background tasks; peak RSS of
//   `many` 102-104 MiB against 114-125 (tmpfs, 6 runs each), the same time and CPU.
// - Grow the heap by half after a full collection (`--heap-growing-percent=50`), instead of V8's
//   own factor, which let a queue of many small downloads (each leaves ~20 KiB of garbage behind)
//   grow the heap from 12 to 37 MiB before the next full collection: `npm run bench`'s `many`
//   peaked at 140-144 MiB RSS, with the flag at 126-130, for 6 full collections instead of 2-4
//   (+6-9 ms). One download is unchanged (one full collection in a 1 GiB download either way).
// Changing a flag changes V8's hash of its flags, and the code caches built into Node for its own
// modules (made with the default flags) no longer match it: every built-in loaded after the change
// is compiled from its source, 15 ms of a download's start-up. So the built-ins that every download
// loads are loaded first, from their caches (`test/executable.test.ts` checks the list against a
// real download). Those only some protocols load (node:tls for FTP, more for SSH) are not.
const BUILTINS = [
  'node:assert', 'node:async_hooks', 'node:crypto', 'node:diagnostics_channel', 'node:dns/promises',
  'node:fs/promises', 'node:http', 'node:net', 'node:perf_hooks', 'node:querystring', 'node:stream',
  'node:stream/consumers', 'node:timers/promises', 'node:util', 'node:worker_threads', 'node:zlib',
];
const tuneV8 = import('node:module').then((m) => {
  const require = m.createRequire(import.meta.url);
  for (let i = 0; i < BUILTINS.length; i++) require(BUILTINS[i]);
  const v8 = require('node:v8');
  if (major === 24) v8.setFlagsFromString('--external-memory-accounted-in-global-limit');
  v8.setFlagsFromString('--wasm-tier-up-filter=2147483647');
  v8.setFlagsFromString('--no-maglev-destroy-on-background');
  v8.setFlagsFromString('--heap-growing-percent=50');
});

tuneV8
  // V8's compile cache (Node >= 22.1; in os.tmpdir() unless NODE_COMPILE_CACHE names a folder, off
  // with NODE_DISABLE_COMPILE_CACHE=1): a run after the first skips parsing and compiling its
  // modules, about a third of the command's start-up time.
  .then(() => import('node:module'))
  .then((m) => {
    try {
      if (typeof m.enableCompileCache === 'function') m.enableCompileCache();
    } catch {
      // A cache that cannot be set up (read-only temp folder) only costs speed.
    }
  })
  .then(() => import('../dist/cli.js'))
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli.js')) {
      process.stderr.write('multiget: the command is not built yet; run "npm run build" in the repository.\n');
    } else {
      process.stderr.write('multiget: ' + (err && err.stack ? err.stack : String(err)) + '\n');
    }
    process.exit(1);
  });
