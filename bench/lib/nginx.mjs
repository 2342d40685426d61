// A private nginx on 127.0.0.1: generated config in a temporary folder, its own pid, log and temp
// paths, running as the current user, stopped with the benchmark.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { spawnGroup, stopGroup } from './procs.mjs';

/** A port the OS considers free right now (bind to 0, read, release). */
export async function freePort() {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts nginx serving `docRoot` from 127.0.0.1. `workDir` receives the config, pid, error log and
 * temp folders.
 * @returns {Promise<{ origin: string, stop(): Promise<void> }>}
 */
export async function startNginx({ nginx, workDir, docRoot, workers = 1 }) {
  for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(workDir, sub), { recursive: true });
  const errorLog = join(workDir, 'error.log');
  const conf = join(workDir, 'nginx.conf');
  const user = userInfo();
  const lastError = { message: '' };
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    writeFileSync(conf, [
      // As root the workers would otherwise drop to nobody, who may not read a private temp folder.
      user.uid === 0 ? 'user root root;' : '',
      `worker_processes ${workers};`,
      'daemon off;',
      `pid ${join(workDir, 'nginx.pid')};`,
      `error_log ${errorLog} warn;`,
      'events { worker_connections 1024; }',
      'http {',
      '  access_log off;',
      '  sendfile on;',
      '  tcp_nopush on;',
      '  keepalive_timeout 65;',
      '  keepalive_requests 100000;',
      '  default_type application/octet-stream;',
      `  client_body_temp_path ${join(workDir, 'client_body')};`,
      `  proxy_temp_path ${join(workDir, 'proxy')};`,
      `  fastcgi_temp_path ${join(workDir, 'fastcgi')};`,
      `  uwsgi_temp_path ${join(workDir, 'uwsgi')};`,
      `  scgi_temp_path ${join(workDir, 'scgi')};`,
      '  server {',
      `    listen 127.0.0.1:${port};`,
      `    root ${docRoot};`,
      '  }',
      '}',
      '',
    ].join('\n'));
    // -e (nginx >= 1.19.5) keeps even the start-up log out of /var/log/nginx.
    const child = spawnGroup(nginx, ['-p', workDir, '-e', errorLog, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    const deadline = Date.now() + 10_000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      if (await canConnect(port)) { up = true; break; }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (up) {
      return {
        origin: `http://127.0.0.1:${port}`,
        // SIGQUIT is nginx's graceful stop; stopGroup escalates to SIGKILL of the whole group.
        stop: () => stopGroup(child, 'SIGQUIT', 5000),
      };
    }
    await stopGroup(child, 'SIGKILL', 1000);
    let log = '';
    try { log = readFileSync(errorLog, 'utf8').slice(-2000); } catch { /* none */ }
    lastError.message = `nginx did not start on port ${port}: ${stderr.trim()} ${log.trim()}`;
    if (!/Address already in use/.test(lastError.message)) break; // only a port race is worth a retry
  }
  throw new Error(lastError.message);
}
