import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, openSync, closeSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { testCertificate } from '../certificate.js';
import { canConnect, exited, freePort, stopGroup } from '../daemon.js';
import { contentSize, readContent } from '../generatedContent.js';
import type { FileContent } from '../content.js';
import type { VsftpdOptions, VsftpdServer } from './types.js';

const BLOCK = 4 * 1024 * 1024;
const STOP_WAIT_MS = 5_000;

/** The vsftpd binary: `binary`, else `vsftpd` on PATH or in the sbin folders Debian puts it in. */
function findBinary(binary: string | undefined): string {
  const candidates = binary !== undefined
    ? [binary]
    : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin', '/sbin'].map((d) => join(d, 'vsftpd'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    `vsftpd is not installed (looked for ${binary ?? 'vsftpd on PATH, /usr/sbin, /usr/local/sbin'}); ` +
      'install the Debian package: apt-get install vsftpd',
  );
}

async function writeContent(path: string, content: FileContent): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const fh = await open(path, 'w', 0o644);
  try {
    const size = contentSize(content);
    for (let at = 0; at < size; at += BLOCK) await fh.write(readContent(content, at, Math.min(size, at + BLOCK)));
  } finally {
    await fh.close();
  }
  // anon_world_readable_only: vsftpd serves only world-readable files to anonymous users.
  await chmod(path, 0o644);
}

function configText(entries: Record<string, string>): string {
  return Object.entries(entries).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

/**
 * Starts a real vsftpd on a free port of 127.0.0.1 for interoperability tests and benchmarks.
 *
 * Everything lives in a fresh temporary folder: the generated vsftpd.conf, the anonymous root with
 * `files`, an empty secure_chroot_dir, vsftpd's protocol log and, with `tls`, a certificate for
 * 127.0.0.1 and localhost. vsftpd runs in the foreground (`background=NO`) in its own process group
 * with `run_as_launching_user=YES`, so it needs no system user, no chroot and no root (and works as
 * root too). Anonymous logins only; passive ports from a random range of 100.
 *
 * @throws Error - when vsftpd is not installed (with the apt-get command to install it), or when it
 *   does not accept connections within `startTimeoutMs` (with what vsftpd printed).
 */
export async function startVsftpd(options: VsftpdOptions = {}): Promise<VsftpdServer> {
  const binary = findBinary(options.binary);
  const dir = await mkdtemp(join(tmpdir(), 'mg-vsftpd-'));
  try {
    return await launch(binary, dir, options);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(binary: string, dir: string, options: VsftpdOptions): Promise<VsftpdServer> {
  const root = join(dir, 'root');
  const empty = join(dir, 'empty');
  await mkdir(root, { mode: 0o755 });
  await mkdir(empty, { mode: 0o755 });
  await chmod(dir, 0o755);
  for (const [path, content] of Object.entries(options.files ?? {})) {
    if (path.split('/').includes('..')) throw new Error(`vsftpd file paths stay inside the root, got ${path}`);
    await writeContent(join(root, path), content);
  }
  let ca: string | undefined;
  const tlsEntries: Record<string, string> = {};
  if (options.tls !== undefined) {
    const certificate = await testCertificate();
    ca = certificate.cert;
    await writeFile(join(dir, 'cert.pem'), certificate.cert, { mode: 0o600 });
    await writeFile(join(dir, 'key.pem'), certificate.key, { mode: 0o600 });
    Object.assign(tlsEntries, {
      ssl_enable: 'YES',
      allow_anon_ssl: 'YES',
      force_anon_logins_ssl: 'YES',
      force_anon_data_ssl: 'YES',
      rsa_cert_file: join(dir, 'cert.pem'),
      rsa_private_key_file: join(dir, 'key.pem'),
      ssl_sslv2: 'NO',
      ssl_sslv3: 'NO',
      ssl_tlsv1: 'YES',
      ssl_ciphers: 'HIGH',
      // vsftpd's default, kept on purpose: data connections must resume the control session.
      require_ssl_reuse: 'YES',
      implicit_ssl: options.tls === 'implicit' ? 'YES' : 'NO',
    });
  }
  const logPath = join(dir, 'vsftpd.log');
  const errPath = join(dir, 'stderr.txt');
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const deadline = performance.now() + timeoutMs;
  let lastFailure = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const pasvMin = 20_000 + Math.floor(Math.random() * 40_000);
    const config = {
      listen: 'YES',
      listen_ipv6: 'NO',
      listen_address: '127.0.0.1',
      listen_port: String(port),
      background: 'NO',
      run_as_launching_user: 'YES',
      anonymous_enable: 'YES',
      local_enable: 'NO',
      write_enable: 'NO',
      anon_root: root,
      no_anon_password: 'YES',
      secure_chroot_dir: empty,
      pasv_enable: 'YES',
      pasv_min_port: String(pasvMin),
      pasv_max_port: String(pasvMin + 99),
      port_enable: 'NO',
      connect_from_port_20: 'NO',
      seccomp_sandbox: 'NO',
      xferlog_enable: 'YES',
      vsftpd_log_file: logPath,
      log_ftp_protocol: 'YES',
      syslog_enable: 'NO',
      use_localtime: 'NO',
      dirmessage_enable: 'NO',
      hide_ids: 'YES',
      max_per_ip: '0',
      max_clients: '0',
      ...tlsEntries,
      ...(options.config ?? {}),
    };
    const confPath = join(dir, 'vsftpd.conf');
    await writeFile(confPath, configText(config));
    // vsftpd writes its fatal "500 OOPS" messages to file descriptor 0, so that is a file too.
    const errFd = openSync(errPath, 'w');
    let child: ChildProcess;
    try {
      child = spawn(binary, [confPath], { stdio: [errFd, 'ignore', errFd], detached: true });
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
    if (up) return running(child, gone, port, root, dir, logPath, ca, options.tls);
    await stopGroup(child, gone, STOP_WAIT_MS);
    lastFailure = (await readFile(errPath, 'utf8').catch(() => '')).trim();
    if (performance.now() >= deadline) break;
    // A port taken between freePort() and vsftpd's bind: try another.
    if (!/bind|address already in use/i.test(lastFailure)) break;
  }
  throw new Error(`vsftpd did not start within ${timeoutMs} ms${lastFailure ? `: ${lastFailure}` : ''}`);
}

function running(
  child: ChildProcess,
  gone: Promise<void>,
  port: number,
  root: string,
  dir: string,
  logPath: string,
  ca: string | undefined,
  tlsMode: 'explicit' | 'implicit' | undefined,
): VsftpdServer {
  const origin = `${tlsMode === 'implicit' ? 'ftps' : 'ftp'}://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  return {
    origin,
    port,
    ca,
    root,
    url: (path: string) => `${origin}/${path.replace(/^\/+/, '')}`,
    log: async () => await readFile(logPath, 'utf8').catch(() => ''),
    close: () => {
      closing ??= (async () => {
        await stopGroup(child, gone, STOP_WAIT_MS);
        await rm(dir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
