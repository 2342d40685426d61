// "Trust This Host Key…" end to end below the UI: the bundled service (dist/server.mjs, with HOME in
// a temporary folder) refuses an SFTP server whose key is unknown; the fingerprint its message names
// is scanned with OpenSSH's ssh-keyscan from the real test server, appended to the known_hosts file
// the service reads, and the retried download completes with exact bytes. A key with another
// fingerprint is never offered.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { sha256, startSftpServer, type GeneratedContent, type SftpTestServer } from '@multiget/test-servers';
import type { AddResult, DownloadInfo, DownloadInfoResult } from '@multiget/server/protocol';
import { appendKnownHost, scanHostKey } from '../src/hostKeyScan';
import { hostKeyFingerprint } from '../src/model/errorText';

const BUNDLE = fileURLToPath(new URL('../dist/server.mjs', import.meta.url));
const CONTENT: GeneratedContent = { size: 200 * 1024, seed: 71 };

let home: string;
let sftp: SftpTestServer;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'mg-hostkey-'));
  sftp = await startSftpServer();
  sftp.addFile('/data.bin', CONTENT);
});
afterEach(async () => {
  await sftp.close();
  await rm(home, { recursive: true, force: true });
});

async function waitFor(rpc: MessageConnection, id: string, states: string[]): Promise<DownloadInfo> {
  for (let i = 0; i < 300; i++) {
    const { download } = await rpc.sendRequest<DownloadInfoResult>('multiget/get', { id });
    if (states.includes(download.state)) return download;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`download ${id} never reached ${states.join('/')}`);
}

it('trusts exactly the key the failed download saw, in the known_hosts the service reads, and the retry completes', async () => {
  const child = spawn(process.execPath, [BUNDLE, '--stdio', '--state-dir', join(home, 'state'), '--dir', join(home, 'out')], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, HOME: home, USERPROFILE: home },
  });
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  rpc.listen();
  try {
    await rpc.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
    await rpc.sendNotification('initialized', {});
    const { id } = await rpc.sendRequest<AddResult>('multiget/add', { url: sftp.url('/data.bin', 'multiget', 'multiget') });
    const failed = await waitFor(rpc, id, ['failed', 'completed']);
    expect(failed.error?.code).toBe('MG_ERR_HOST_KEY_UNKNOWN');
    const fingerprint = hostKeyFingerprint(failed.error!.message);
    expect(fingerprint).toBe(sftp.hostKey.fingerprint);

    // Another fingerprint than the one the download saw: nothing to trust.
    expect(await scanHostKey(sftp.host, sftp.port, `SHA256:${'A'.repeat(43)}`)).toBeUndefined();
    const key = await scanHostKey(sftp.host, sftp.port, fingerprint!);
    expect(key).toBeDefined();
    const knownHosts = join(home, '.ssh', 'known_hosts');
    await appendKnownHost(knownHosts, sftp.host, sftp.port, key!);
    expect(await readFile(knownHosts, 'utf8')).toBe(`${sftp.knownHostsLine().trim()}\n`);
    expect((await stat(knownHosts)).mode & 0o777).toBe(0o600);

    await rpc.sendRequest<DownloadInfoResult>('multiget/retry', { id });
    const done = await waitFor(rpc, id, ['completed', 'failed']);
    expect(done.error).toBeNull();
    expect(sha256(await readFile(done.file!))).toBe(sha256(CONTENT));
  } finally {
    rpc.dispose();
    child.kill('SIGKILL');
  }
}, 60_000);

it('appends without truncating, adds a missing final newline, and refuses to write through a symbolic link', async () => {
  const file = join(home, '.ssh', 'known_hosts');
  const key = { name: 'x', type: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl' };
  await appendKnownHost(file, 'a.example', 22, key);
  await writeFile(file, (await readFile(file, 'utf8')) + 'b.example ssh-ed25519 AAAA', { flag: 'w' });
  await appendKnownHost(file, '127.0.0.1', 2222, key);
  expect((await readFile(file, 'utf8')).split('\n')).toEqual([
    `a.example ssh-ed25519 ${key.key}`,
    'b.example ssh-ed25519 AAAA',
    `[127.0.0.1]:2222 ssh-ed25519 ${key.key}`,
    '',
  ]);
  const target = join(home, 'elsewhere');
  await writeFile(target, 'keep\n');
  const link = join(home, 'link_known_hosts');
  await symlink(target, link);
  await expect(appendKnownHost(link, 'c.example', 22, key)).rejects.toMatchObject({ code: 'ELOOP' });
  expect(await readFile(target, 'utf8')).toBe('keep\n');
});
