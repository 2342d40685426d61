import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { canConnect, exited, freePort, stopGroup } from '../daemon.js';

const STOP_WAIT_MS = 5_000;

/** Options of {@link startDante}. */
export interface DanteOptions {
  /**
   * `none` (default) accepts every client on 127.0.0.0/8; `username` requires RFC 1929
   * authentication against the system's user database (so a test can check refusals without
   * creating a system user).
   */
  socksMethod?: 'none' | 'username';
  /** Path of the danted binary; default `danted` on PATH or in /usr/sbin. */
  binary?: string;
  /** Milliseconds to wait for it to accept connections. Default 10 000. */
  startTimeoutMs?: number;
}

/** One connection dante logged as opened to a destination. */
export interface DanteConnection {
  /** Destination address as dante connected to it (resolved when the client sent a name). */
  host: string;
  /** Destination port. */
  port: number;
}

/** A running dante server; see {@link startDante}. */
export interface DanteServer {
  /** `socks5://127.0.0.1:PORT` (no credentials). */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** The destinations of the tunnels dante opened so far, from its log, oldest first. */
  connections(): Promise<DanteConnection[]>;
  /** dante's log. */
  log(): Promise<string>;
  /** Stops dante (its whole process group) and removes its folder. */
  close(): Promise<void>;
}

function findBinary(binary: string | undefined): string {
  const candidates = binary !== undefined
    ? [binary]
    : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin', '/sbin'].map((d) => join(d, 'danted'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`dante is not installed (looked for ${binary ?? 'danted on PATH, /usr/sbin'}); install the Debian package: apt-get install dante-server`);
}

function configText(port: number, logPath: string, method: 'none' | 'username'): string {
  const asRoot = process.getuid?.() === 0;
  return [
    `logoutput: ${logPath}`,
    `internal: 127.0.0.1 port = ${port}`,
    'external: 127.0.0.1',
    'clientmethod: none',
    `socksmethod: ${method}`,
    // As root dante must drop to an unprivileged user for its children; otherwise it runs as the caller.
    ...(asRoot ? ['user.privileged: root', 'user.unprivileged: nobody'] : []),
    'client pass {',
    '  from: 127.0.0.0/8 to: 0.0.0.0/0',
    '  log: error connect disconnect',
    '}',
    'socks pass {',
    '  from: 127.0.0.0/8 to: 0.0.0.0/0',
    '  command: connect',
    '  log: error connect disconnect',
    '}',
    '',
  ].join('\n');
}

/**
 * Starts Debian's real SOCKS5 server, dante (`danted`), on a free port of 127.0.0.1, in the
 * foreground and in its own process group, with a generated configuration in a fresh temporary
 * folder: CONNECT only, clients from 127.0.0.0/8 only, every tunnel logged. Always `close()` it.
 *
 * @throws Error - dante is not installed (with the apt-get command), or it did not accept
 *   connections within `startTimeoutMs` (with what it logged).
 */
export async function startDante(options: DanteOptions = {}): Promise<DanteServer> {
  const binary = findBinary(options.binary);
  const dir = await mkdtemp(join(tmpdir(), 'mg-dante-'));
  const logPath = join(dir, 'danted.log');
  const errPath = join(dir, 'stderr.txt');
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const deadline = performance.now() + timeoutMs;
  let lastFailure = '';
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const confPath = join(dir, 'danted.conf');
      await writeFile(confPath, configText(port, logPath, options.socksMethod ?? 'none'));
      const errFd = openSync(errPath, 'w');
      let child: ChildProcess;
      try {
        child = spawn(binary, ['-f', confPath, '-p', join(dir, 'danted.pid'), '-N', '1'], { stdio: ['ignore', errFd, errFd], detached: true });
      } finally {
        closeSync(errFd);
      }
      child.on('error', () => undefined);
      const gone = exited(child);
      let up = false;
      while (performance.now() < deadline && child.exitCode === null && child.signalCode === null) {
        if (await canConnect(port)) {
          up = true;
          break;
        }
        await sleep(25);
      }
      if (up) return running(child, gone, port, dir, logPath);
      await stopGroup(child, gone, STOP_WAIT_MS);
      lastFailure = `${await readFile(errPath, 'utf8').catch(() => '')}${await readFile(logPath, 'utf8').catch(() => '')}`.trim();
      if (performance.now() >= deadline) break;
      // A port taken between freePort() and dante's bind: try another.
      if (!/bind|address already in use/i.test(lastFailure)) break;
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`dante did not start within ${timeoutMs} ms${lastFailure ? `: ${lastFailure}` : ''}`);
}

function running(child: ChildProcess, gone: Promise<void>, port: number, dir: string, logPath: string): DanteServer {
  let closing: Promise<void> | undefined;
  const log = async (): Promise<string> => await readFile(logPath, 'utf8').catch(() => '');
  return {
    url: `socks5://127.0.0.1:${port}`,
    port,
    log,
    connections: async () => {
      // "pass(1): tcp/connect [: CLIENT PROXY -> EXTERNAL DESTINATION", addresses as `a.b.c.d.port`.
      const out: DanteConnection[] = [];
      for (const match of (await log()).matchAll(/tcp\/connect \[: \S+ \S+ -> \S+ (\S+)\.(\d+)\s*$/gm)) {
        out.push({ host: match[1] ?? '', port: Number(match[2]) });
      }
      return out;
    },
    close: () => {
      closing ??= (async () => {
        await stopGroup(child, gone, STOP_WAIT_MS);
        await rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
