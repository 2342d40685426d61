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

// V8 flags, set before anything runs: those of every process that runs downloads, with their
// reasons and figures (core's src/v8Tuning.ts, `@multiget/core/v8-tuning`, a module without imports;
// the service sets the same). node:v8 through require: an import() of it builds its whole namespace,
// whose lazy getters load heap_utils and node:stream (about 20 ms of start-up).
// Changing a flag changes V8's hash of its flags, and the code caches built into Node for its own
// modules (made with the default flags) no longer match it: every built-in loaded after the change
// is compiled from its source, 15 ms of a download's start-up. So the built-ins that every download
// loads are loaded first, from their caches (`test/executable.test.ts` checks the list against a
// real download). Those only some protocols load (node:tls for FTP, more for SSH) are not. Those the
// bundles import as ES modules are imported here (ESM_BUILTINS), which also builds the namespace:
// building it reads every export, and the lazy ones load internal modules (node:crypto's webcrypto, node:fs's
// streams, node:util's parseArgs and diff, node:net's BlockList and SocketAddress) that would
// otherwise be compiled from source after the flags.
const BUILTINS = [
  'node:assert', 'node:async_hooks', 'node:diagnostics_channel', 'node:dns/promises', 'node:fs/promises',
  'node:http', 'node:perf_hooks', 'node:querystring', 'node:stream', 'node:stream/consumers',
  'node:timers/promises', 'node:worker_threads', 'node:zlib',
];
const ESM_BUILTINS = ['node:crypto', 'node:fs', 'node:net', 'node:util'];
const tuneV8 = Promise.all([import('node:module'), import('@multiget/core/v8-tuning'), ...ESM_BUILTINS.map((b) => import(b))]).then(([m, tuning]) => {
  const require = m.createRequire(import.meta.url);
  for (let i = 0; i < BUILTINS.length; i++) require(BUILTINS[i]);
  const v8 = require('node:v8');
  const flags = tuning.downloadV8Flags(major);
  for (let i = 0; i < flags.length; i++) v8.setFlagsFromString(flags[i]);
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
    // dist/cli.js, or core's dist/v8Tuning.js: the workspace was installed but not built.
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && /dist[\\/](cli|v8Tuning)\.js/.test(String(err.message))) {
      process.stderr.write('multiget: the command is not built yet; run "npm run build" in the repository.\n');
    } else {
      process.stderr.write('multiget: ' + (err && err.stack ? err.stack : String(err)) + '\n');
    }
    process.exit(1);
  });
