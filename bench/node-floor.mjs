// The floor of any Node.js downloader on this machine: one HTTP/1.1 GET over a bare socket, every
// chunk written at its offset with positioned writes (256 KiB at a time), nothing else: no parser
// beyond finding the end of the headers, no engine, no digests, no sync. Compare its time, CPU and
// peak RSS with curl's and multiget's on the same server (README, "What limits the rest"):
//
//   /usr/bin/time -f '%e s %U u %S s %M KB' node --max-semi-space-size=1 bench/node-floor.mjs URL FILE
//
// Plain http:// only; the server must close the connection at the end of the body (it asks for
// Connection: close).
import { closeSync, openSync, writev } from 'node:fs';
import { connect } from 'node:net';

const [url, file] = process.argv.slice(2);
if (!url || !file) {
  process.stderr.write('usage: node bench/node-floor.mjs http://HOST:PORT/PATH FILE\n');
  process.exit(2);
}
const target = new URL(url);
const fd = openSync(file, 'w');
const started = performance.now();
let head = Buffer.alloc(0);
let bodyStarted = false;
let queued = [];
let queuedBytes = 0;
let position = 0;
let writing = false;
let ended = false;

function finish() {
  closeSync(fd);
  process.stdout.write(`${position} bytes in ${(performance.now() - started).toFixed(0)} ms\n`);
}

function flush() {
  if (writing || queuedBytes === 0) {
    if (ended && !writing && queuedBytes === 0) finish();
    return;
  }
  const chunks = queued;
  const length = queuedBytes;
  queued = [];
  queuedBytes = 0;
  writing = true;
  writev(fd, chunks, position, (err) => {
    if (err) throw err;
    writing = false;
    position += length;
    flush();
  });
}

function take(chunk) {
  queued.push(chunk);
  queuedBytes += chunk.length;
  if (queuedBytes >= 256 * 1024) flush();
}

const socket = connect(Number(target.port || 80), target.hostname, () => {
  socket.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`);
});
socket.on('data', (chunk) => {
  if (bodyStarted) return take(chunk);
  head = Buffer.concat([head, chunk]);
  const end = head.indexOf('\r\n\r\n');
  if (end < 0) return;
  bodyStarted = true;
  if (end + 4 < head.length) take(head.subarray(end + 4));
});
socket.on('end', () => {
  ended = true;
  flush();
});
