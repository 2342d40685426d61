// What a real HTTP download logs at each level, and that no secret reaches the log.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_LEVELS, type LogLevel, type LogSetting, Multiget } from '@multiget/core';
import { RecordingLogger } from '@multiget/core/testing';
import { type HttpTestServer, startHttpServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

const SECRETS = {
  password: 'pa55-http-userinfo',
  signature: 'sig0123456789abcdef',
  credential: 'AKIAEXAMPLECREDENTIAL',
  cookie: 'cookie-secret-4567',
  apiKey: 'api-key-secret-8910',
};

let server: HttpTestServer;
let dir: string;
let counter = 0;

beforeAll(async () => {
  server = await startHttpServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-http-log-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Downloads through a redirect a file whose first response is cut short (one retry), with
 * credentials in the URL, a signed query string and secret headers, logging at `level`.
 */
async function download(level: LogSetting): Promise<RecordingLogger> {
  const n = ++counter;
  server.addFile(`/f${n}.bin`, { size: 512 * 1024, seed: n }, { faults: { dropAfterBytes: 100_000, dropTimes: 1 } });
  const query = `X-Amz-Credential=${SECRETS.credential}&X-Amz-Date=20260101T000000Z&X-Amz-Signature=${SECRETS.signature}`;
  server.addRedirect(`/r${n}`, `/f${n}.bin?${query}`);
  const rec = new RecordingLogger();
  const mg = new Multiget({
    plugins: [new HttpPlugin({ useEnvProxy: false })],
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    logger: rec,
    logLevel: level,
  });
  try {
    const url = new URL(server.url(`/r${n}?${query}`));
    url.username = 'user';
    url.password = SECRETS.password;
    await mg.download(url, { dir, connections: 1, headers: { cookie: `session=${SECRETS.cookie}`, 'x-api-key': SECRETS.apiKey } }).done;
  } finally {
    await mg.close();
  }
  return rec;
}

function expectNoSecret(rec: RecordingLogger): void {
  const all = `${rec.text()}\n${JSON.stringify(rec.lines)}`;
  for (const secret of [...Object.values(SECRETS), Buffer.from(`user:${SECRETS.password}`).toString('base64')]) {
    expect(all).not.toContain(secret);
  }
}

/** The messages each level adds to the one before it. */
const ADDED: Record<LogLevel, string[]> = {
  error: [],
  warn: ['retry'],
  info: ['start', 'done'],
  debug: ['redirect', 'connection pool opened', 'state'],
  trace: ['request', 'response', 'connection pool reused'],
};

describe('HTTP logging', () => {
  for (const level of LOG_LEVELS) {
    it(`logs at ${level} what that level promises, and never a secret`, async () => {
      const rec = await download(level);
      const upTo = LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
      const seen = new Set(rec.messages());
      for (const l of LOG_LEVELS) {
        for (const msg of ADDED[l]) expect(seen.has(msg), `${msg} at ${level}`).toBe(upTo.includes(l));
      }
      for (const line of rec.lines) expect(upTo).toContain(line.level);
      expectNoSecret(rec);
    });
  }

  it('makes no call to the logger when its level is off, through a redirect, a retry and every request', async () => {
    const rec = await download('off');
    expect(rec.lines).toEqual([]);
  });

  it('says why it retried, where a redirect led and what a request carried (redacted)', async () => {
    const rec = await download('trace');
    expect(rec.find('retry')?.fields).toMatchObject({ attempt: 1, code: expect.stringMatching(/^MG_ERR_/) });
    expect(rec.find('redirect')?.fields).toMatchObject({
      status: 302,
      to: expect.stringContaining(`X-Amz-Signature=***`),
      userData: 'sent',
    });
    const request = rec.find('request')?.fields as { headers: Record<string, string>; host: string };
    expect(request.headers).toMatchObject({ authorization: '***', cookie: '***', 'x-api-key': '***', range: 'bytes=0-' });
    expect(request.host).toBe(new URL(server.origin).host);
    expectNoSecret(rec);
  });
});
