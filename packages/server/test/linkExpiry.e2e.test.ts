/**
 * Links that expire mid-download, through the shared service's socket as the extension drives it:
 * the download shows as paused with reason `linkExpired` (keeping its bytes, also after the service
 * restarted), and `multiget/updateUrl` continues it from a new link to the exact bytes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type HttpTestServer, sha256, startHttpServer } from '@multiget/test-servers';
import { redactUrl } from '@multiget/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddResult, DownloadInfo, DownloadInfoResult } from '../src/protocol.js';
import { cleanupTempDirs, sha256File, tempDir } from './helpers.js';
import { SocketClient, alive, killSharedServices, starter, until } from './socketClient.js';

const MiB = 1024 * 1024;

let http: HttpTestServer;
const clients: SocketClient[] = [];
beforeEach(async () => {
  http = await startHttpServer();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await killSharedServices();
  await http.close();
  await cleanupTempDirs();
});

async function client(stateDir: string, dir: string): Promise<SocketClient> {
  const c = await SocketClient.open(stateDir, starter(stateDir, dir));
  clients.push(c);
  await c.initialize();
  return c;
}

describe('multiget/updateUrl', () => {
  it('continues a download paused for an expired link, after a restart of the service, from a new link to the exact bytes', async () => {
    const stateDir = await tempDir('state');
    const dir = await tempDir('dl');
    const content = { size: 4 * MiB, seed: 17 };
    http.addFile('/signed.iso', content, { faults: { signedLinks: { afterBytes: 1.5 * MiB } } });
    const first = http.signUrl('/signed.iso');

    const a = await client(stateDir, dir);
    const { id } = await a.request<AddResult>('multiget/add', { url: first, output: 'signed.iso', connections: 4 });
    await until(() => a.latest().get(id)?.reason === 'linkExpired', 'the download to pause for its expired link');
    const expired = a.latest().get(id)!;
    expect(expired).toMatchObject({ state: 'paused', reason: 'linkExpired', error: { code: expect.stringMatching(/^MG_ERR_/) } });
    expect(existsSync(join(dir, 'signed.iso.mgpart'))).toBe(true);

    // A restart keeps it paused for its link, with its bytes.
    expect(await a.request('multiget/stopService')).toBeNull();
    await until(() => a.closed && !alive(a.endpoint.pid), 'the service to stop');
    const b = await client(stateDir, dir);
    const { download: restored } = await b.request<DownloadInfoResult>('multiget/get', { id });
    expect(restored).toMatchObject({ state: 'paused', reason: 'linkExpired' });
    expect(restored.bytes).toBeGreaterThan(0);

    // Wire-shape checks; the URL itself is the manager's to judge.
    for (const bad of [{ id }, { id, url: 7 }, { id, url: '' }, { id, url: first, extra: 1 }, { url: first }]) {
      expect((await b.requestError('multiget/updateUrl', bad)).data?.code, JSON.stringify(bad)).toBe('MG_ERR_INVALID_OPTION');
    }
    expect((await b.requestError('multiget/updateUrl', { id, url: 'file:///etc/passwd' })).data?.code).toBe('MG_ERR_UNSUPPORTED_PROTOCOL');
    expect((await b.requestError('multiget/updateUrl', { id: 'nope', url: first })).data?.code).toBe('MG_ERR_UNKNOWN_DOWNLOAD');

    http.setFaults('/signed.iso', { signedLinks: { afterBytes: 64 * MiB } });
    const fresh = http.signUrl('/signed.iso');
    const { download } = await b.request<DownloadInfoResult>('multiget/updateUrl', { id, url: fresh });
    expect(download).toMatchObject({ url: redactUrl(fresh), reason: null, error: null });
    await until(() => ['completed', 'failed'].includes(b.latest().get(id)?.state ?? ''), 'the download to end');
    const done: DownloadInfo = b.latest().get(id)!;
    expect(done.state).toBe('completed');
    expect(await sha256File(join(dir, 'signed.iso'))).toBe(sha256(content));
    // A finished download takes no new link.
    expect((await b.requestError('multiget/updateUrl', { id, url: fresh })).data?.code).toBe('MG_ERR_INVALID_STATE');
  });
});
