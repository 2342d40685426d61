import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:fs';
import { access, appendFile, chmod, mkdir, mkdtemp, open, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateContent } from '../generatedContent.js';
import type { FileContent } from '../content.js';
import { publicKeyBlob, sshFingerprint, hostKeyInfo, knownHostsName } from './sshKeys.js';
import type { HostKeyInfo, OpenSshServerOptions, OpenSshTestServer, SshKeyPair, SshKeyType } from './types.js';

const DEFAULT_SSHD = '/usr/sbin/sshd';
/** Where sshd insists on its privilege separation directory (Debian, Ubuntu). */
const PRIVSEP_DIR = '/run/sshd';
/** Bounded waits: a run never hangs on a stuck sshd or ssh-keygen. */
const KEYGEN_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 5;
/** Generated content is written in blocks this large, never held whole. */
const WRITE_BLOCK = 4 * 1024 * 1024;
/** sshd keeps at most this much of its log in memory. */
const LOG_LIMIT = 256 * 1024;

/**
 * Starts a real OpenSSH sshd on a free port of 127.0.0.1, for interop tests and the benchmark.
 *
 * Everything is generated for the run in a temporary directory: a host key (`ssh-keygen`), a user
 * key authorised through `AuthorizedKeysFile`, a known_hosts file with the host key, and the
 * config (`StrictModes no`, `UsePAM no`, public keys only, `PermitRootLogin prohibit-password`, the
 * sftp subsystem, `MaxSessions 64`). It runs as `sshd -D -e -f CONFIG -p PORT` in its own process
 * group, logging to stderr (see `logs()`), and lets in the user running the tests only.
 *
 * @throws Error with an installation hint when sshd or ssh-keygen is missing, or with sshd's log
 *   when it does not start within `startTimeoutMs`.
 */
export async function startOpenSshServer(options: OpenSshServerOptions = {}): Promise<OpenSshTestServer> {
  const sshd = options.sshd ?? process.env.MULTIGET_SSHD ?? DEFAULT_SSHD;
  try {
    await access(sshd, constants.X_OK);
  } catch {
    throw new Error(
      `OpenSSH's sshd is not installed at ${sshd}: the SFTP interop tests need it ` +
        '(Debian/Ubuntu: apt-get install openssh-server openssh-client; or set MULTIGET_SSHD to its path)',
    );
  }
  await ensurePrivsepDir();
  const dir = await mkdtemp(join(tmpdir(), 'mg-sshd-'));
  try {
    return await OpenSshServer.start(sshd, dir, options);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Runs ssh-keygen to make a key of `type` at `path`; returns the pair as read back. */
export async function sshKeygen(
  path: string,
  type: SshKeyType,
  options: { passphrase?: string; comment?: string } = {},
): Promise<SshKeyPair> {
  const args = ['-q', '-t', type, '-N', options.passphrase ?? '', '-C', options.comment ?? 'multiget-test', '-f', path];
  if (type === 'rsa') args.push('-b', '2048');
  if (type === 'ecdsa') args.push('-b', '256');
  await run('ssh-keygen', args, KEYGEN_TIMEOUT_MS);
  const publicKey = (await readFile(`${path}.pub`, 'utf8')).trim();
  const blob = publicKeyBlob(publicKey);
  return {
    type: publicKey.split(' ')[0] ?? '',
    privateKey: await readFile(path, 'utf8'),
    publicKey,
    blob,
    fingerprint: sshFingerprint(blob),
  };
}

async function ensurePrivsepDir(): Promise<void> {
  try {
    await access(PRIVSEP_DIR);
    return;
  } catch {
    // Missing: create it below, as the system's sshd service would at boot.
  }
  try {
    await mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new Error(
      `sshd needs its privilege separation directory ${PRIVSEP_DIR}, which is missing and cannot be created ` +
        `(${(err as Error).message}); run the tests as root or create it once with: sudo mkdir -p ${PRIVSEP_DIR}`,
      { cause: err },
    );
  }
}

/** Runs a command to completion within `timeoutMs`; rejects with its stderr on failure. */
async function run(command: string, args: string[], timeoutMs: number): Promise<void> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolveExit, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new Error(`${command} is not installed (Debian/Ubuntu: apt-get install openssh-client)`, { cause: err })
          : err,
      ),
    );
    child.once('close', (exitCode, exitSignal) => resolveExit([exitCode, exitSignal]));
  });
  if (code !== 0) throw new Error(`${command} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`);
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((done) => probe.close(() => done()));
  return port;
}

/** Resolves once something on `port` speaks SSH; rejects when `deadline` passes or `exited` settles first. */
async function waitForBanner(port: number, deadline: number, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  while (!gone) {
    if (Date.now() > deadline) throw new Error('timed out waiting for sshd to accept connections');
    const banner = await new Promise<string>((done) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      const finish = (): void => {
        socket.destroy();
        done(text);
      };
      socket.setTimeout(1000, finish);
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
        if (text.includes('\n')) finish();
      });
      socket.on('error', finish);
      socket.on('close', finish);
    });
    if (banner.startsWith('SSH-2.0-')) return;
    await sleep(50);
  }
  throw new Error('sshd exited');
}

class OpenSshServer implements OpenSshTestServer {
  readonly host = '127.0.0.1';
  readonly filesDir: string;
  readonly knownHostsPath: string;
  readonly userKeyPath: string;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<unknown>,
    private readonly stderr: { text: string },
    readonly port: number,
    readonly username: string,
    readonly dir: string,
    readonly userKey: SshKeyPair,
    readonly hostKey: HostKeyInfo,
  ) {
    this.filesDir = join(dir, 'files');
    this.knownHostsPath = join(dir, 'known_hosts');
    this.userKeyPath = join(dir, 'user_key');
  }

  static async start(sshd: string, dir: string, options: OpenSshServerOptions): Promise<OpenSshServer> {
    const username = userInfo().username;
    const hostPair = await sshKeygen(join(dir, 'ssh_host_key'), options.hostKeyType ?? 'ed25519', { comment: 'multiget-test-host' });
    const userKey = await sshKeygen(join(dir, 'user_key'), 'ed25519', {
      comment: 'multiget-test-user',
      ...(options.userKeyPassphrase === undefined ? {} : { passphrase: options.userKeyPassphrase }),
    });
    await writeFile(join(dir, 'authorized_keys'), `${userKey.publicKey}\n`, { mode: 0o600 });
    await mkdir(join(dir, 'files'), { recursive: true });
    const config = join(dir, 'sshd_config');
    await writeFile(config, sshdConfig(dir, username, options.subsystem ?? 'internal-sftp'));
    // sshd refuses host keys that others can read.
    await chmod(join(dir, 'ssh_host_key'), 0o600);
    const hostKey = hostKeyInfo(hostPair);
    const timeout = options.startTimeoutMs ?? 15_000;
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      const port = await freePort();
      const stderr = { text: '' };
      const child = spawn(sshd, ['-D', '-e', '-f', config, '-p', String(port)], {
        stdio: ['ignore', 'ignore', 'pipe'],
        // Its own process group, so close() reaches the per-connection children too.
        detached: true,
      });
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        stderr.text = (stderr.text + chunk).slice(-LOG_LIMIT);
      });
      const exited = new Promise<unknown>((done) => {
        child.once('exit', done);
        child.once('error', done);
      });
      try {
        await waitForBanner(port, Date.now() + timeout, exited);
        const server = new OpenSshServer(child, exited, stderr, port, username, dir, userKey, hostKey);
        await writeFile(server.knownHostsPath, `${server.knownHostsLine()}\n`);
        return server;
      } catch (err) {
        await stopProcess(child, exited);
        lastError = new Error(`sshd did not start: ${(err as Error).message}\n--- sshd log ---\n${stderr.text.trim()}`, {
          cause: err,
        });
        // Another process took the port between the probe and sshd's bind: try another one.
        if (!/Address already in use|Cannot bind/i.test(stderr.text)) break;
      }
    }
    throw lastError ?? new Error('sshd did not start');
  }

  url(path: string): string {
    const absolute = path.startsWith('/') ? path : `/${path}`;
    return `sftp://${encodeURIComponent(this.username)}@${this.host}:${this.port}${absolute.split('/').map(encodeURIComponent).join('/')}`;
  }

  knownHostsLine(): string {
    return `${knownHostsName(this.host, this.port)} ${this.hostKey.publicKey}`;
  }

  async writeFile(name: string, content: FileContent, mtime?: number): Promise<string> {
    const path = resolve(this.filesDir, name);
    if (!path.startsWith(`${this.filesDir}/`)) throw new Error(`${name} is outside the files directory`);
    await mkdir(dirname(path), { recursive: true });
    if (Buffer.isBuffer(content)) {
      await writeFile(path, content);
    } else {
      const handle = await open(path, 'w');
      try {
        for (let at = 0; at < content.size; at += WRITE_BLOCK) {
          await handle.write(generateContent(content, at, Math.min(content.size, at + WRITE_BLOCK)));
        }
      } finally {
        await handle.close();
      }
    }
    if (mtime !== undefined) await utimes(path, mtime, mtime);
    return path;
  }

  async authorize(publicKey: string): Promise<void> {
    await appendFile(join(this.dir, 'authorized_keys'), `${publicKey.trim()}\n`);
  }

  logs(): string {
    return this.stderr.text;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await stopProcess(this.child, this.exited);
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.closing;
  }
}

/** SIGTERM to the process group, SIGKILL after a bounded wait. */
async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
  // Session children of a stopped listener may linger on open connections: end the whole group.
  signal(stopped ? 'SIGTERM' : 'SIGKILL');
  if (!stopped) await Promise.race([exited, sleep(STOP_TIMEOUT_MS)]);
}

function sshdConfig(dir: string, username: string, subsystem: string): string {
  const root = process.getuid?.() === 0;
  return [
    '# Generated for one test run by @multiget/test-servers.',
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'ssh_host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    `PermitRootLogin ${root ? 'prohibit-password' : 'no'}`,
    `AllowUsers ${username}`,
    `Subsystem sftp ${subsystem}`,
    // Room for the channel and connection counts the plugin measures.
    'MaxSessions 64',
    'MaxStartups 64:30:128',
    'PrintMotd no',
    'LogLevel INFO',
    '',
  ].join('\n');
}
