// Keeping credentials out of the state file and the errors of a download stopped mid-way (resuming
// and starting over when the file changed are the conformance battery's: conformance.test.ts).
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Multiget, STATE_SUFFIX } from '@multiget/core';
import { sha256, startFtpServer, type FtpTestServer } from '@multiget/test-servers';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FtpPlugin } from '../src/index.js';
import { abortMidway, rejection } from './helpers.js';

const MiB = 1024 * 1024;
const USER = 'mallory-user';
const PASSWORD = 'pw-Zq9-secret';

let server: FtpTestServer;
let dir: string;
let mg: Multiget;
let counter = 0;

beforeAll(async () => {
  server = await startFtpServer({ users: { [USER]: PASSWORD } });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mg-ftp-resume-'));
  mg = new Multiget({
    plugins: [new FtpPlugin()],
    minSplitSize: 128 * 1024,
    checkpointIntervalMs: 50,
    progressIntervalMs: 20,
    retry: { baseDelayMs: 10, maxDelayMs: 100 },
  });
});
afterEach(async () => {
  await mg.close();
  await rm(dir, { recursive: true, force: true });
});

/** A file paced slowly enough that a download can be stopped half-way. */
function serveSlow(size = 4 * MiB) {
  const path = `/r${++counter}.bin`;
  const content = { size, seed: 1000 + counter };
  server.addFile(path, content, { faults: { throttleBytesPerSec: 2 * MiB } });
  return { path, content, url: server.url(path), name: `r${counter}.bin` };
}

async function hashOf(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

describe('credentials', () => {
  it('never writes them to the state file', async () => {
    const f = serveSlow();
    const url = server.url(f.path, { username: USER, password: PASSWORD });
    await abortMidway(mg, url, { dir, connections: 2 }, 512 * 1024);
    const state = await readFile(join(dir, f.name + STATE_SUFFIX), 'utf8');
    expect(state).toContain(f.url);
    expect(state).not.toContain(PASSWORD);
    expect(state).not.toContain(USER);
    // The same URL with credentials resumes that state.
    server.setFileFaults(f.path, {});
    const result = await mg.download(url, { dir, connections: 2 }).done;
    expect(result.resumed).toBe(true);
    expect(result.url).toBe(f.url);
  });

  it('never puts them in error messages, events or the download URL', async () => {
    const f = serveSlow(1000);
    const url = server.url(f.path, { username: USER, password: `${PASSWORD}-wrong` });
    const dl = mg.download(url, { dir });
    const seen: string[] = [dl.url];
    dl.on('failed', (e) => seen.push(e.message, JSON.stringify(e.toJSON())));
    const err = await rejection(dl.done);
    expect(err.code).toBe('MG_ERR_AUTH');
    seen.push(String(err), JSON.stringify(err.toJSON()));
    for (const text of seen) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(USER);
    }
    // Nor in the server's command log, which masks PASS (and we never send USER in clear text to a TLS server; see tls.test.ts).
    expect(server.commands('PASS').every((c) => c.argument === '****')).toBe(true);
  });

  it('sends credentials from the options when the URL has none', async () => {
    const f = serveSlow(1000);
    server.setFileFaults(f.path, {});
    const result = await mg.download(f.url, { dir, credentials: { username: USER, password: PASSWORD } }).done;
    expect(await hashOf(result.file)).toBe(sha256(f.content));
  });
});
