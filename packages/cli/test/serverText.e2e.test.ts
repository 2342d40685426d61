// What a server writes reaches the terminal and the log only as visible escapes: a reason phrase with
// escape sequences (a new window title, a cleared screen), a name in a URL with %1B, a name in a
// folder listing with control characters. Real sockets, the real executable.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { startSftpServer } from '@multiget/test-servers';
import { afterEach, expect, it } from 'vitest';
import { Cleanup, cliEnv } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

/** Any character a terminal or a log reader would act on rather than show (tabs and line ends aside). */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/** An HTTP server on 127.0.0.1 whose every answer is a 500 with a hostile reason phrase. */
async function hostileServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.end('HTTP/1.1 500 \x1b]0;pwned\x07\x1b[2J boom\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 'latin1');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/x%1B%5D0%3Bname%07.bin`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

it("prints a server's reason phrase and a URL's name with their control characters escaped, on screen and in the log", async () => {
  const server = cleanup.server(await hostileServer());
  const dir = await cleanup.tempDir();
  const log = join(dir, 'multiget.log');
  const r = await cleanup.run(['--retries', '1', '--log', log, '--log-level', 'debug', server.url], { cwd: dir });
  expect(r.code, r.stderr).toBe(4);
  // The retry line names the download (its URL's last segment, decoded) and quotes the reason.
  expect(r.stderr).toContain('retry: x\\x1b]0;name\\x07.bin: HTTP 500 \\x1b]0;pwned\\x07\\x1b[2J boom');
  expect(r.stderr).toContain('multiget: HTTP 500 \\x1b]0;pwned\\x07\\x1b[2J boom for');
  expect(UNPRINTABLE.test(r.stderr + r.stdout), JSON.stringify(r.stderr)).toBe(false);
  const logged = await readFile(log, 'utf8');
  // A value with spaces is written as JSON, which doubles the escape's backslash.
  expect(logged).toContain('reason="HTTP 500 \\\\x1b]0;pwned\\\\x07');
  expect(UNPRINTABLE.test(logged), logged).toBe(false);
});

it('prints the names a folder listing skips with their control characters escaped', async () => {
  const server = cleanup.server(await startSftpServer({ users: [{ username: 'alice', password: 's3cret-pw' }] }));
  server.addFile('/data/set/a.bin', { size: 1000, seed: 1 });
  // A line break makes the name unusable (skipped, and said so); the escape sequence rides along.
  server.addFile('/data/set/evil\x1b]0;pwned\x07\n.bin', { size: 1000, seed: 2 });
  const dir = await cleanup.tempDir();
  const env = cliEnv({ HOME: dir, SSH_AUTH_SOCK: '' });
  const r = await cleanup.run(['-r', '--ssh-fingerprint', server.hostKey.fingerprint, '-u', 'alice:s3cret-pw', server.url('/data/set/')], { cwd: dir, env });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toContain('skipped: evil\\x1b]0;pwned\\x07\\x0a.bin: its name has a line break');
  expect(UNPRINTABLE.test(r.stderr + r.stdout), JSON.stringify(r.stderr)).toBe(false);
});
