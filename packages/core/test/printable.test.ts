// Text a server chooses reaches people's terminals and logs only as visible escapes: printable()
// itself, the messages of DownloadErrors, the engine's `warning` and `restart` events (a plugin's
// words and a changed ETag), and log lines.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DownloadError, ErrorCodes, Multiget, type ByteSource, type Job, type RangeRequest, type RemoteInfo, formatLogLine, printable } from '../src/index.js';
import { MemoryPlugin, pseudoRandom, sha256 } from './helpers/MemoryPlugin.js';

/** Any character a terminal or a log reader would act on rather than show. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
/** What a hostile server writes: a new window title, a cleared screen, a fake log line, a reversed extension. */
const HOSTILE = 'boom\u001b]0;pwned\u0007\u001b[2J\r\nINFO all good\u009b31m\u202etxt.exe\u0000';

describe('printable', () => {
  it('shows every control character and bidirectional mark as an escape', () => {
    expect(printable(HOSTILE)).toBe('boom\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\x0aINFO all good\\x9b31m\\u202etxt.exe\\x00');
    for (let code = 0; code < 0x3000; code++) {
      const c = String.fromCharCode(code);
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const out = printable(`a${c}b`);
      expect(UNPRINTABLE.test(out), `U+${code.toString(16)}`).toBe(false);
      if (!UNPRINTABLE.test(c)) expect(out).toBe(`a${c}b`);
    }
  });

  it('leaves ordinary text as it is: tabs, accents, other scripts, emoji, backslashes', () => {
    for (const text of ['', 'HTTP 404 Not Found', 'a\tb', 'ünïcödé Ελληνικά 日本語 עברית', '👩‍💻 done', 'C:\\path\\x1b']) {
      expect(printable(text)).toBe(text);
    }
  });

  it('is applied to the message of every DownloadError, and so to its JSON', () => {
    const error = new DownloadError(ErrorCodes.SERVER, `HTTP 500 ${HOSTILE}`);
    expect(error.message).toBe(`HTTP 500 ${printable(HOSTILE)}`);
    expect(UNPRINTABLE.test(JSON.stringify(error.toJSON()))).toBe(false);
    expect(UNPRINTABLE.test(error.toJSON()['message'] as string)).toBe(false);
  });

  it('is applied to a log line, its message and its values', () => {
    const line = formatLogLine('warn', `retry ${HOSTILE}`, { reason: HOSTILE, bare: 'x\u001b[2Jy' }, new Date(0));
    expect(UNPRINTABLE.test(line)).toBe(false);
    expect(line).toContain('bare=x\\x1b[2Jy');
    expect(line).toContain('\\x1b]0;pwned\\x07');
  });
});

/** A memory plugin whose probe warns with a server's words, and whose ETags a test chooses. */
class HostilePlugin extends MemoryPlugin {
  etag = '"v1"';

  override async probe(job: Job): Promise<RemoteInfo> {
    const info = await super.probe(job);
    job.warn('MG_WARN_TEST', `the server says: ${HOSTILE}`);
    return { ...info, validators: { ...info.validators, etag: this.etag } };
  }

  // The memory plugin checks its own ETags; this one's are the test's.
  override fetchRange(req: RangeRequest, job: Job): Promise<ByteSource> {
    return super.fetchRange({ ...req, validators: {} }, job);
  }
}

describe('the engine', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mg-printable-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('escapes server text in warnings and restart reasons; the download still gets the right file', async () => {
    const plugin = new HostilePlugin();
    plugin.put('/f.bin', pseudoRandom(4 * 1024 * 1024, 1), { chunkDelayMs: 10 });
    const mg = new Multiget({ plugins: [plugin], checkpointIntervalMs: 20, progressIntervalMs: 20 });
    try {
      const ctl = new AbortController();
      const first = mg.download('mem://host/f.bin', { dir, signal: ctl.signal });
      await new Promise<void>((resolve) => first.on('progress', (p) => p.bytesDone > 512 * 1024 && resolve()));
      ctl.abort();
      await first.done.catch(() => undefined);

      // The file changed, and its new ETag carries a C1 CSI (an HTTP header value may: latin1).
      const v2 = pseudoRandom(4 * 1024 * 1024, 2);
      plugin.put('/f.bin', v2);
      plugin.etag = '"v2\u009b2J"';
      const again = mg.download('mem://host/f.bin', { dir });
      const said: string[] = [];
      again.on('warning', (w) => said.push(w.message));
      again.on('restart', (r) => said.push(r.reason));
      const result = await again.done;
      expect(said, said.join('\n')).toHaveLength(2);
      expect(said[0]).toBe(`the server says: ${printable(HOSTILE)}`);
      expect(said[1]).toContain('\\x9b2J');
      for (const text of said) expect(UNPRINTABLE.test(text), text).toBe(false);
      expect(sha256(await readFile(result.file))).toBe(sha256(v2));
    } finally {
      await mg.close();
    }
  });
});
