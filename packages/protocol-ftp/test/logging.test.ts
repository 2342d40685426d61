// What a real FTP download logs at each level, and that the password never reaches the log.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_LEVELS, type LogLevel, Multiget } from '@multiget/core';
import { RecordingLogger } from '@multiget/core/testing';
import { type FtpTestServer, startFtpServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FtpPlugin } from '../src/index.js';

const PASSWORD = 'ftp-pa55-word-secret';

let server: FtpTestServer;
let dir: string;
let counter = 0;

beforeAll(async () => {
  server = await startFtpServer({ users: { alice: PASSWORD } });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-ftp-log-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Downloads, with a password in the URL, a file whose first transfer is cut short (one retry). */
async function download(level: LogLevel, credentials: 'url' | 'option'): Promise<RecordingLogger> {
  const path = `/f${++counter}.bin`;
  server.addFile(path, { size: 700 * 1024, seed: counter }, { faults: { dropAfterBytes: 100_000, dropTimes: 1 } });
  const rec = new RecordingLogger();
  const mg = new Multiget({ plugins: [new FtpPlugin()], retry: { baseDelayMs: 5, maxDelayMs: 20 }, minSplitSize: 256 * 1024, logger: rec, logLevel: level });
  try {
    const url = credentials === 'url' ? server.url(path, { username: 'alice', password: PASSWORD }) : server.url(path);
    await mg.download(url, { dir, connections: 2, ...(credentials === 'option' ? { credentials: { username: 'alice', password: PASSWORD } } : {}) }).done;
  } finally {
    await mg.close();
  }
  return rec;
}

const ADDED: Record<LogLevel, string[]> = {
  error: [],
  warn: ['retry'],
  info: ['start', 'done'],
  debug: ['probe', 'control connection opened', 'state'],
  trace: [],
};

describe('FTP logging', () => {
  for (const level of LOG_LEVELS) {
    it(`logs at ${level} what that level promises, and never the password`, async () => {
      const rec = await download(level, level === 'debug' ? 'option' : 'url');
      const upTo = LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
      const seen = new Set(rec.messages());
      for (const l of LOG_LEVELS) for (const msg of ADDED[l]) expect(seen.has(msg), `${msg} at ${level}`).toBe(upTo.includes(l));
      for (const line of rec.lines) expect(upTo).toContain(line.level);
      expect(`${rec.text()}\n${JSON.stringify(rec.lines)}`).not.toContain(PASSWORD);
    });
  }

  it('says how a control connection is secured and logged in, and that the retry was a cut transfer', async () => {
    const rec = await download('trace', 'url');
    expect(rec.find('control connection opened')?.fields).toMatchObject({ security: 'plain FTP', login: 'credentials' });
    expect(rec.find('retry')?.fields).toMatchObject({ attempt: 1, code: expect.stringMatching(/^MG_ERR_/) });
    expect(rec.find('start')?.fields?.['url']).not.toContain('alice');
  });
});
