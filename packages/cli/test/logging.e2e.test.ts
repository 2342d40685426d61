// -v, --log and --log-level over real HTTP, FTP and SFTP servers: the log says what happened, goes
// to stderr or the file and never to stdout, and no secret given on any path reaches any output.
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSshKeyPair, startFtpServer, startHttpServer, startSftpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, type CliResult, cliEnv } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

/** Every secret any run below is given, one per path into the program. */
const SECRETS = {
  userPassword: 'u-flag-pa55word',
  userinfoPassword: 'userinfo-pa55word',
  bearer: 'bearer-token-0123456789',
  cookie: 'cookie-value-0123456789',
  apiKey: 'api-key-value-0123456789',
  amzSignature: 'f00dfacecafe0123456789abcdef',
  amzCredential: 'AKIAIOSFODNN7EXAMPLE',
  sasSig: 'sas-signature-value-987',
  ftpPassword: 'ftp-account-pa55word',
  sftpPassword: 'sftp-account-pa55word',
  passphrase: 'key-pa55phrase-flag',
  envPassphrase: 'key-pa55phrase-env',
};

/** Every form a secret could take on its way out: as given, percent-encoded, in Basic auth. */
function forms(): string[] {
  const out: string[] = [];
  for (const s of Object.values(SECRETS)) out.push(s, encodeURIComponent(s));
  for (const [user, pass] of [
    ['alice', SECRETS.userPassword],
    ['alice', SECRETS.userinfoPassword],
  ] as const) {
    out.push(Buffer.from(`${user}:${pass}`).toString('base64'));
  }
  return out;
}

function expectNoSecret(...texts: string[]): void {
  const all = texts.join('\n');
  for (const secret of forms()) expect(all, `leaked ${secret}`).not.toContain(secret);
}

const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (ERROR|WARN |INFO |DEBUG|TRACE) \S/;

/** The log lines of an output, and whatever else it holds. */
function split(text: string): { log: string[]; other: string[] } {
  const lines = text.split('\n').filter((l) => l !== '');
  return { log: lines.filter((l) => LOG_LINE.test(l)), other: lines.filter((l) => !LOG_LINE.test(l)) };
}

function levels(log: readonly string[]): Set<string> {
  return new Set(log.map((l) => l.split(' ')[1]!));
}

function ok(r: CliResult): void {
  expect(r.code, r.stderr).toBe(0);
}

async function httpSetUp() {
  const server = cleanup.server(await startHttpServer());
  server.addFile('/f.bin', { size: 600 * 1024, seed: 3 }, { faults: { dropAfterBytes: 100_000, dropTimes: 1 } });
  const signed = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${SECRETS.amzCredential}&X-Amz-Signature=${SECRETS.amzSignature}&sig=${SECRETS.sasSig}`;
  server.addRedirect('/r', `/f.bin?${signed}`);
  const dir = await cleanup.tempDir();
  return { server, dir, url: server.url(`/r?${signed}`) };
}

describe('CLI logging over HTTP', () => {
  it('-vvv logs every level on stderr, with time and level, through a redirect and a retry, and no secret', async () => {
    const { dir, url } = await httpSetUp();
    const r = await cleanup.run(
      ['-vvv', '-c', '2', '-H', `Authorization: Bearer ${SECRETS.bearer}`, '-H', `Cookie: sid=${SECRETS.cookie}`, '-H', `X-Api-Key: ${SECRETS.apiKey}`, url],
      { cwd: dir },
    );
    ok(r);
    const { log } = split(r.stderr);
    expect(levels(log)).toEqual(new Set(['INFO', 'DEBUG', 'TRACE', 'WARN']));
    for (const event of [' INFO  download ', ' INFO  start ', ' WARN  retry ', ' DEBUG redirect ', ' TRACE request ', ' INFO  done ']) {
      expect(log.some((l) => l.includes(event)), event).toBe(true);
    }
    // The plain display's own lines show the URL redacted too.
    expect(r.stderr).toMatch(/^start: .*X-Amz-Signature=\*\*\*/m);
    expectNoSecret(r.stdout, r.stderr);
  });

  it('-v logs info and warn only', async () => {
    const { dir, url } = await httpSetUp();
    const r = await cleanup.run(['-v', '-u', `alice:${SECRETS.userPassword}`, url], { cwd: dir });
    ok(r);
    expect(levels(split(r.stderr).log)).toEqual(new Set(['INFO', 'WARN']));
    expectNoSecret(r.stdout, r.stderr);
  });

  it('with --json, stdout holds JSON events only and the log goes to stderr', async () => {
    const { dir, url } = await httpSetUp();
    const withUserinfo = url.replace('http://', `http://alice:${SECRETS.userinfoPassword}@`);
    const r = await cleanup.run(['--json', '-vvv', withUserinfo], { cwd: dir });
    ok(r);
    const stdoutLines = r.stdout.split('\n').filter((l) => l !== '');
    expect(stdoutLines.length).toBeGreaterThan(1);
    for (const line of stdoutLines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(stdoutLines.map((l) => (JSON.parse(l) as { url: string }).url)).toContain(
      `${url.split('?')[0]}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***&X-Amz-Signature=***&sig=***`,
    );
    expect(split(r.stderr).log.length).toBeGreaterThan(5);
    expectNoSecret(r.stdout, r.stderr);
  });

  it('--log FILE appends there (debug by default) and prints no log line; refuses a symbolic link', async () => {
    const { dir, url } = await httpSetUp();
    const logFile = join(dir, 'run.log');
    await writeFile(logFile, 'kept\n');
    const r = await cleanup.run(['--log', logFile, '-u', `alice:${SECRETS.userPassword}`, '-o', 'a.bin', url], { cwd: dir });
    ok(r);
    const text = await readFile(logFile, 'utf8');
    expect(text.startsWith('kept\n')).toBe(true);
    const { log } = split(text);
    expect(levels(log)).toEqual(new Set(['INFO', 'DEBUG', 'WARN']));
    expect(split(r.stderr).log).toEqual([]);
    expectNoSecret(r.stdout, r.stderr, text);

    await symlink(join(dir, 'elsewhere.log'), join(dir, 'link.log'));
    const refused = await cleanup.run(['--log', join(dir, 'link.log'), '-o', 'b.bin', url], { cwd: dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('symbolic link');
  });

  it('--log-level off is silent even with -vvv', async () => {
    const { dir, url } = await httpSetUp();
    const r = await cleanup.run(['-vvv', '--log-level', 'off', url], { cwd: dir });
    ok(r);
    expect(split(r.stderr).log).toEqual([]);
  });
});

describe('CLI logging over FTP and SFTP', () => {
  it('never logs an FTP password given with -u or in the URL', async () => {
    const server = cleanup.server(await startFtpServer({ users: { alice: SECRETS.ftpPassword } }));
    server.addFile('/pub/f.bin', { size: 700 * 1024, seed: 4 }, { faults: { dropAfterBytes: 100_000, dropTimes: 1 } });
    const dir = await cleanup.tempDir();
    const flag = await cleanup.run(['-vvv', '-u', `alice:${SECRETS.ftpPassword}`, '-o', 'a.bin', server.url('/pub/f.bin')], { cwd: dir });
    ok(flag);
    expect(flag.stderr).toMatch(/ DEBUG control connection opened .*login=credentials/);
    expect(flag.stderr).toMatch(/ WARN {2}retry /);
    const inUrl = await cleanup.run(['--json', '-vv', '-o', 'b.bin', server.url('/pub/f.bin', { username: 'alice', password: SECRETS.ftpPassword })], { cwd: dir });
    ok(inUrl);
    expectNoSecret(flag.stdout, flag.stderr, inUrl.stdout, inUrl.stderr);
  });

  it('never logs an SFTP password, nor a key passphrase from --pass or MULTIGET_SSH_PASSPHRASE', async () => {
    const server = cleanup.server(await startSftpServer({ users: [{ username: 'alice', password: SECRETS.sftpPassword }] }));
    server.addFile('/data/f.bin', { size: 500 * 1024, seed: 5 });
    const dir = await cleanup.tempDir();
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `${server.knownHostsLine()}\n`);
    const env = cliEnv({ HOME: dir, SSH_AUTH_SOCK: '' });
    const outputs: string[] = [];

    const byPassword = await cleanup.run(['-vvv', '--known-hosts', knownHosts, '-o', 'a.bin', server.url('/data/f.bin', 'alice', SECRETS.sftpPassword)], { cwd: dir, env });
    ok(byPassword);
    expect(byPassword.stderr).toMatch(/ DEBUG host key accepted .*fingerprint=SHA256:/);
    outputs.push(byPassword.stdout, byPassword.stderr);

    for (const [flags, passphrase, extraEnv] of [
      [['--pass', SECRETS.passphrase], SECRETS.passphrase, {}],
      [[], SECRETS.envPassphrase, { MULTIGET_SSH_PASSPHRASE: SECRETS.envPassphrase }],
    ] as const) {
      const keyPair = generateSshKeyPair('ed25519', { passphrase });
      const user = `k${outputs.length}`;
      server.addUser({ username: user, publicKeys: [keyPair.publicKey] });
      const keyFile = join(dir, `${user}_key`);
      await writeFile(keyFile, keyPair.privateKey, { mode: 0o600 });
      const r = await cleanup.run(['-vv', '--known-hosts', knownHosts, '--ssh-key', keyFile, ...flags, '-o', `${user}.bin`, server.url('/data/f.bin', user)], {
        cwd: dir,
        env: { ...env, ...extraEnv },
      });
      ok(r);
      expect(r.stderr).toContain(`logins=["key ${keyFile}"]`);
      outputs.push(r.stdout, r.stderr);
    }
    expectNoSecret(...outputs);
  });
});
