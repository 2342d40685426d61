#!/usr/bin/env node
// The `multiget-server` executable. npm links it at install time, before `prepare` builds dist/, so it
// must exist in the repository; it stays plain JavaScript of an old enough dialect that any Node.js
// can run it far enough to say which version is needed. Nothing here may write to stdout: with
// --stdio, stdout is the protocol.
const REQUIRED = [22, 19];
const [major, minor] = process.versions.node.split('.').map(Number);

if (major < REQUIRED[0] || (major === REQUIRED[0] && minor < REQUIRED[1])) {
  process.stderr.write(
    'multiget-server: Node.js >= ' + REQUIRED.join('.') + ' is required, but this is ' + process.version +
      ' (' + process.execPath + ').\n',
  );
  process.exit(1);
}

// The V8 flags of every process that runs downloads (core's src/v8Tuning.ts has their reasons), set
// before the service's modules load. A long-running service does not mind the few milliseconds of
// start-up they cost (Node's code caches of its own modules no longer match the flags).
Promise.all([import('node:v8'), import('@multiget/core/v8-tuning')])
  .then(([v8, tuning]) => {
    const flags = tuning.downloadV8Flags(major);
    for (let i = 0; i < flags.length; i++) v8.setFlagsFromString(flags[i]);
  })
  .then(() => import('../dist/main.js'))
  .then(
    (m) => m.main(process.argv.slice(2)).then((code) => process.exit(code)),
    (err) => {
      // dist/main.js, or core's dist/v8Tuning.js: the workspace was installed but not built.
      if (err && err.code === 'ERR_MODULE_NOT_FOUND' && /dist[\\/](main|v8Tuning)\.js/.test(String(err.message))) {
        process.stderr.write('multiget-server: not built yet; run "npm run build" in the repository.\n');
      } else {
        process.stderr.write('multiget-server: ' + (err && err.stack ? err.stack : String(err)) + '\n');
      }
      process.exit(1);
    },
  );
