import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateContent, startHttpServer, type HttpTestServer } from '../src/index.js';
import { request, until } from './helpers.js';

const SPEC = { size: 100_000, seed: 21 };
const BYTES = generateContent(SPEC);

describe('HTTP faults', () => {
  let server: HttpTestServer;
  beforeEach(async () => {
    server = await startHttpServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('throttleBytesPerSec paces the body without changing it', async () => {
    server.addFile('/f', SPEC, { faults: { throttleBytesPerSec: 2_000_000 } });
    const reply = await request(server.url('/f'));
    expect(reply.body.equals(BYTES)).toBe(true);
    expect(server.requests('/f')[0]?.faults).toContain('throttleBytesPerSec');
  });

  it('latencyMs delays every response of the file, errors included', async () => {
    server.addFile('/f', SPEC, { faults: { latencyMs: 30, failTimes: { count: 1, code: 500 } } });
    expect((await request(server.url('/f'))).status).toBe(500);
    const reply = await request(server.url('/f'), { headers: { range: 'bytes=5-9' } });
    expect(reply.body.equals(BYTES.subarray(5, 10))).toBe(true);
    for (const record of server.requests('/f')) expect(record.faults).toContain('latencyMs');
  });

  it('refuseRanges answers a Range request with 200 and the whole body', async () => {
    server.addFile('/f', SPEC, { faults: { refuseRanges: true } });
    const reply = await request(server.url('/f'), { headers: { range: 'bytes=10-19' } });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-range']).toBeUndefined();
    expect(reply.headers['accept-ranges']).toBe('bytes');
    expect(reply.body.equals(BYTES)).toBe(true);
  });

  it('wrongContentRange answers a neighbouring range, consistently in header and bytes', async () => {
    server.addFile('/f', SPEC, { faults: { wrongContentRange: true } });
    const cases: [string, number, number][] = [
      ['bytes=10-19', 11, 20],
      [`bytes=99990-`, 99_989, 99_998],
      ['bytes=0-', 1, 99_999],
    ];
    for (const [range, first, last] of cases) {
      const reply = await request(server.url('/f'), { headers: { range } });
      expect(reply.status, range).toBe(206);
      expect(reply.headers['content-range']).toBe(`bytes ${first}-${last}/${SPEC.size}`);
      expect(reply.body.equals(BYTES.subarray(first, last + 1))).toBe(true);
    }
    expect(server.requests('/f')[0]?.faults).toContain('wrongContentRange');
  });

  it('chunked sends no length and no Accept-Ranges, and ignores Range', async () => {
    server.addFile('/f', SPEC, { faults: { chunked: true } });
    const reply = await request(server.url('/f'), { headers: { range: 'bytes=0-9' } });
    expect(reply.status).toBe(200);
    expect(reply.headers['transfer-encoding']).toBe('chunked');
    expect(reply.headers['content-length']).toBeUndefined();
    expect(reply.headers['accept-ranges']).toBeUndefined();
    expect(reply.body.equals(BYTES)).toBe(true);
    const head = await request(server.url('/f'), { method: 'HEAD' });
    expect(head.headers['content-length']).toBeUndefined();
    expect(head.headers['accept-ranges']).toBeUndefined();
    server.addFile('/empty', Buffer.alloc(0), { faults: { chunked: true } });
    const empty = await request(server.url('/empty'));
    expect(empty.error).toBeUndefined();
    expect(empty.body.length).toBe(0);
  });

  it('signedLinks: a token carries afterBytes body bytes, then gets 403; a new token works, a missing one never', async () => {
    server.addFile('/f', SPEC, { faults: { signedLinks: { afterBytes: 30_000 } } });
    const first = server.signUrl('/f');
    expect(first).toMatch(/\/f\?sig=\w+$/);
    expect((await request(server.url('/f'))).status).toBe(403);
    const part = await request(first, { headers: { range: 'bytes=0-9999' } });
    expect(part.body.equals(BYTES.subarray(0, 10_000))).toBe(true);
    // 20 000 bytes left: the whole-file response is cut there.
    const cut = await request(first);
    expect(cut.status).toBe(200);
    expect(cut.error).toBeDefined();
    expect(cut.body.equals(BYTES.subarray(0, 20_000))).toBe(true);
    expect((await request(first, { headers: { range: 'bytes=20000-' } })).status).toBe(403);
    const second = server.signUrl('/f');
    expect(second).not.toBe(first);
    const rest = await request(second, { headers: { range: 'bytes=20000-' } });
    // 80 000 bytes asked, 30 000 allowed under the new token.
    expect(rest.status).toBe(206);
    expect(rest.body.equals(BYTES.subarray(20_000, 50_000))).toBe(true);
    expect(server.requests('/f').map((r) => r.faults.includes('signedLinks'))).toEqual([true, false, true, true, true]);
  });

  it('signedLinks: responses under way at once share the token’s bytes, and are cut where they run out', async () => {
    server.addFile('/f', SPEC, { faults: { signedLinks: { afterBytes: 60_000 }, throttleBytesPerSec: 400_000 } });
    const link = server.signUrl('/f');
    const [a, b] = await Promise.all([request(link), request(link, { headers: { range: 'bytes=50000-' } })]);
    expect(a.body.length + b.body.length).toBe(60_000);
    expect(a.error).toBeDefined();
    expect(b.error).toBeDefined();
    expect(a.body.equals(BYTES.subarray(0, a.body.length))).toBe(true);
    expect(b.body.equals(BYTES.subarray(50_000, 50_000 + b.body.length))).toBe(true);
  });

  it('dropAfterBytes cuts the first dropTimes responses after exactly that many bytes', async () => {
    server.addFile('/f', SPEC, { faults: { dropAfterBytes: 1000, dropTimes: 2 } });
    // A range no longer than the threshold is never cut and does not use up a drop.
    const probe = await request(server.url('/f'), { headers: { range: 'bytes=0-999' } });
    expect(probe.error).toBeUndefined();
    for (const range of ['bytes=0-', 'bytes=5000-']) {
      const cut = await request(server.url('/f'), { headers: { range } });
      expect(cut.status).toBe(206);
      expect(cut.error).toBeDefined();
      expect(cut.body.length).toBe(1000);
    }
    expect(server.requests('/f')[1]).toMatchObject({ bytesSent: 1000, faults: ['dropAfterBytes'] });
    const whole = await request(server.url('/f'));
    expect(whole.error).toBeUndefined();
    expect(whole.body.equals(BYTES)).toBe(true);
  });

  it('dropAfterBytes without dropTimes cuts every response, including after 0 bytes', async () => {
    server.addFile('/f', SPEC, { faults: { dropAfterBytes: 0 } });
    for (let i = 0; i < 3; i++) {
      const cut = await request(server.url('/f'));
      expect(cut.status).toBe(200);
      expect(cut.error).toBeDefined();
      expect(cut.body.length).toBe(0);
    }
  });

  it('failTimes answers the first count requests with the status and Retry-After', async () => {
    server.addFile('/f', SPEC, { faults: { failTimes: { count: 2, code: 503, retryAfter: 7 } } });
    for (let i = 0; i < 2; i++) {
      const failed = await request(server.url('/f'));
      expect(failed.status).toBe(503);
      expect(failed.headers['retry-after']).toBe('7');
    }
    const ok = await request(server.url('/f'));
    expect(ok.status).toBe(200);
    expect(ok.headers['retry-after']).toBeUndefined();
  });

  it('maxConnections answers 503 with Retry-After: 1 beyond N open responses', async () => {
    server.addFile('/f', SPEC, { faults: { maxConnections: 1, stallAfterBytes: 10 } });
    const held = request(server.url('/f'));
    await until(() => server.requests('/f')[0]?.bytesSent === 10);
    const refused = await request(server.url('/f'));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(server.requests('/f')[1]?.faults).toEqual(['maxConnections']);
    await server.close();
    expect((await held).error).toBeDefined();
  });

  it('replaceAfterRequests changes bytes and ETag once, after N requests, keeping the size', async () => {
    server.addFile('/f', SPEC, { faults: { replaceAfterRequests: 2 } });
    server.addFile('/b', Buffer.from('abc'), { faults: { replaceAfterRequests: 0 } });
    const first = await request(server.url('/f'));
    const second = await request(server.url('/f'));
    const third = await request(server.url('/f'));
    const fourth = await request(server.url('/f'));
    expect(first.body.equals(BYTES)).toBe(true);
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(third.headers.etag).not.toBe(first.headers.etag);
    expect(fourth.headers.etag).toBe(third.headers.etag);
    expect(third.body.length).toBe(SPEC.size);
    expect(third.body.equals(BYTES)).toBe(false);
    expect(third.body.equals(generateContent({ size: SPEC.size, seed: SPEC.seed + 1 }))).toBe(true);
    expect(server.fileContent('/f')).toEqual({ size: SPEC.size, seed: SPEC.seed + 1 });
    expect(server.requests('/f')[2]?.faults).toEqual(['replaceAfterRequests']);
    const resumed = await request(server.url('/f'), { headers: { range: 'bytes=10-', 'if-range': first.headers.etag ?? '' } });
    expect(resumed.status).toBe(200);
    const replacedBuffer = await request(server.url('/b'));
    expect(replacedBuffer.body.length).toBe(3);
    expect(replacedBuffer.body.equals(Buffer.from('abc'))).toBe(false);
  });

  it('stallAfterBytes sends N bytes then nothing, and close() still ends the response', async () => {
    server.addFile('/f', SPEC, { faults: { stallAfterBytes: 500 } });
    let received = 0;
    const stalled = request(server.url('/f'), {
      onData: (_chunk, total) => {
        received = total;
      },
    });
    await until(() => received === 500);
    expect(server.requests('/f')[0]).toMatchObject({ status: 200, bytesSent: 500, done: false, faults: ['stallAfterBytes'] });
    // stallTimes defaults to 1: the next response is whole.
    const next = await request(server.url('/f'));
    expect(next.body.equals(BYTES)).toBe(true);
    await server.close();
    const reply = await stalled;
    expect(reply.error).toBeDefined();
    expect(reply.body.equals(BYTES.subarray(0, 500))).toBe(true);
  });

  it('stallTimes stalls the first N responses', async () => {
    server.addFile('/f', SPEC, { faults: { stallAfterBytes: 0, stallTimes: 2 } });
    const stalled = [request(server.url('/f')), request(server.url('/f'))];
    await until(() => server.requests('/f').filter((record) => record.status === 200).length === 2);
    const third = await request(server.url('/f'));
    expect(third.body.equals(BYTES)).toBe(true);
    await server.close();
    for (const reply of await Promise.all(stalled)) expect(reply.error).toBeDefined();
  });

  it('slowRequest throttles only the nth request', async () => {
    server.addFile('/f', SPEC, { faults: { slowRequest: { nth: 2, bytesPerSec: 1_000_000 } } });
    const replies = await Promise.all([1, 2, 3].map(() => request(server.url('/f'))));
    for (const reply of replies) expect(reply.body.equals(BYTES)).toBe(true);
    const slow = server.requests('/f').filter((record) => record.faults.includes('slowRequest'));
    expect(slow).toHaveLength(1);
  });

  it('contentEncoding labels the response without encoding the bytes', async () => {
    server.addFile('/f', SPEC, { faults: { contentEncoding: 'gzip' } });
    const reply = await request(server.url('/f'), { headers: { range: 'bytes=0-99' } });
    expect(reply.status).toBe(206);
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.body.equals(BYTES.subarray(0, 100))).toBe(true);
  });

  it('status answers every request with that status and a short body', async () => {
    server.addFile('/gone', SPEC, { faults: { status: 500 } });
    server.addFile('/bad-range', SPEC, { faults: { status: 416 } });
    for (let i = 0; i < 2; i++) {
      const reply = await request(server.url('/gone'));
      expect(reply.status).toBe(500);
      expect(reply.body.toString()).toBe('500 Internal Server Error\n');
    }
    const range = await request(server.url('/bad-range'), { headers: { range: 'bytes=0-1' } });
    expect(range.status).toBe(416);
    expect(range.headers['content-range']).toBe(`bytes */${SPEC.size}`);
  });

  it('setFaults replaces the faults at run time and restarts their counters', async () => {
    server.addFile('/f', SPEC, { faults: { failTimes: { count: 1, code: 500 } } });
    expect((await request(server.url('/f'))).status).toBe(500);
    expect((await request(server.url('/f'))).status).toBe(200);
    server.setFaults('/f', { failTimes: { count: 1, code: 429 } });
    expect((await request(server.url('/f'))).status).toBe(429);
    server.setFaults('/f', {});
    expect((await request(server.url('/f'))).status).toBe(200);
    expect(() => server.setFaults('/f', { throttleBytesPerSec: 0 })).toThrow(RangeError);
  });
});
