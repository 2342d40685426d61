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

import('../dist/main.js').then(
  (m) => m.main(process.argv.slice(2)).then((code) => process.exit(code)),
  (err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
      process.stderr.write('multiget-server: not built yet; run "npm run build" in the repository.\n');
    } else {
      process.stderr.write('multiget-server: ' + (err && err.stack ? err.stack : String(err)) + '\n');
    }
    process.exit(1);
  },
);
