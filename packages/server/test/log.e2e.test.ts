// The service forwards its log to the clients that ask for it, each at its own level, without a
// secret, and logs nothing for a client that did not ask.
import { type HttpTestServer, startHttpServer } from '@multiget/test-servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddResult, DownloadInfo, LogParams } from '../src/protocol.js';
import { ServiceProcess, cleanupTempDirs, killAll, tempDir } from './helpers.js';

const SIGNATURE = 'service-signature-0123456789';
const PASSWORD = 'service-userinfo-pa55word';
const TOKEN = 'service-bearer-token-0123456789';

let server: HttpTestServer;
beforeEach(async () => {
  server = await startHttpServer();
});
afterEach(async () => {
  await killAll();
  await server.close();
  await cleanupTempDirs();
});

async function start(): Promise<ServiceProcess> {
  const service = new ServiceProcess(['--state-dir', await tempDir('state'), '--dir', await tempDir('dl')]);
  await service.initialize();
  return service;
}

/** Adds a signed URL with userinfo and a bearer token, whose first response is cut (one retry), and waits for it. */
async function download(service: ServiceProcess, n: number): Promise<string> {
  server.addFile(`/f${n}.bin`, { size: 400 * 1024, seed: n }, { faults: { dropAfterBytes: 100_000, dropTimes: 1 } });
  const url = new URL(server.url(`/f${n}.bin?X-Amz-Signature=${SIGNATURE}&v=1`));
  url.username = 'alice';
  url.password = PASSWORD;
  const added = await service.request<AddResult>('multiget/add', { url: url.href, headers: { authorization: `Bearer ${TOKEN}` } });
  await service.waitFor(() => service.latest().get(added.id)?.state === 'completed', 'the download to complete');
  return added.id;
}

describe('multiget/setLogLevel and multiget/log', () => {
  it('sends nothing before a client asks, then the lines at its level, redacted', async () => {
    const service = await start();
    await download(service, 1);
    expect(service.received('multiget/log')).toEqual([]);

    await service.request('multiget/setLogLevel', { level: 'info' });
    const id = await download(service, 2);
    const info = service.received<LogParams>('multiget/log').map((n) => n.params);
    expect(new Set(info.map((l) => l.level))).toEqual(new Set(['info', 'warn']));
    expect(info.map((l) => l.message.split(' ')[0])).toEqual(expect.arrayContaining(['download', 'start', 'retry', 'done']));
    const mapping = info.find((l) => l.message.startsWith('download '));
    expect(mapping?.fields).toMatchObject({ entry: id, url: expect.stringContaining('X-Amz-Signature=***') });

    await service.request('multiget/setLogLevel', { level: 'trace' });
    await download(service, 3);
    const all = service.received<LogParams>('multiget/log').map((n) => n.params);
    expect(new Set(all.map((l) => l.level))).toEqual(new Set(['info', 'warn', 'debug', 'trace']));
    expect(all.some((l) => l.message.startsWith('redirect') || l.message.startsWith('request '))).toBe(true);

    await service.request('multiget/setLogLevel', { level: 'off' });
    const count = service.received('multiget/log').length;
    await download(service, 4);
    expect(service.received('multiget/log').length).toBe(count);

    // Nothing the service sent (log lines, list entries, progress) carries a secret.
    const sent = JSON.stringify(service.notifications) + JSON.stringify(await service.request<{ downloads: DownloadInfo[] }>('multiget/list', {}));
    for (const secret of [SIGNATURE, PASSWORD, TOKEN]) expect(sent).not.toContain(secret);
  });

  it('refuses a level it does not know', async () => {
    const service = await start();
    await expect(service.request('multiget/setLogLevel', { level: 'loud' })).rejects.toMatchObject({ data: { code: 'MG_ERR_INVALID_OPTION' } });
  });
});
