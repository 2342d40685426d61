import { X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateContent, startHttpServer, type HttpTestServer } from '../src/index.js';
import { request } from './helpers.js';

const SPEC = { size: 300_000, seed: 2 };

describe('HTTPS', () => {
  let server: HttpTestServer;
  beforeEach(async () => {
    server = await startHttpServer({ tls: true });
    server.addFile('/f', SPEC);
  });
  afterEach(async () => {
    await server.close();
  });

  it('has an https origin and a CA for 127.0.0.1, localhost and ::1', () => {
    expect(server.origin).toBe(`https://127.0.0.1:${server.port}`);
    expect(server.ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const certificate = new X509Certificate(server.ca ?? '');
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.checkIP('::1')).toBeDefined();
    expect(certificate.checkHost('localhost')).toBe('localhost');
  });

  it('serves files and ranges to a client that trusts the CA', async () => {
    const reply = await request(server.url('/f'), { ca: server.ca ?? '' });
    expect(reply.status).toBe(200);
    expect(reply.body.equals(generateContent(SPEC))).toBe(true);
    const ranged = await request(server.url('/f'), { ca: server.ca ?? '', headers: { range: 'bytes=1000-1999' } });
    expect(ranged.status).toBe(206);
    expect(ranged.body.equals(generateContent(SPEC, 1000, 2000))).toBe(true);
  });

  it('verifies under the name localhost too', async () => {
    const reply = await request(server.url('/f'), { ca: server.ca ?? '', servername: 'localhost', method: 'HEAD' });
    expect(reply.status).toBe(200);
  });

  it('is refused by a client that does not trust the CA', async () => {
    await expect(request(server.url('/f'))).rejects.toThrow(/self-signed|certificate/i);
  });

  it('counts handshaken connections and logs their ids', async () => {
    await request(server.url('/f'), { ca: server.ca ?? '', method: 'HEAD' });
    await request(server.url('/f'), { ca: server.ca ?? '', method: 'HEAD' });
    expect(server.connectionsOpened()).toBe(2);
    expect(server.requests().map((record) => record.connectionId)).toEqual([1, 2]);
  });

  it('drops and stalls over TLS as over plain HTTP', async () => {
    server.setFaults('/f', { dropAfterBytes: 20_000, dropTimes: 1 });
    const cut = await request(server.url('/f'), { ca: server.ca ?? '' });
    expect(cut.error).toBeDefined();
    expect(cut.body.equals(generateContent(SPEC, 0, 20_000))).toBe(true);
    const whole = await request(server.url('/f'), { ca: server.ca ?? '' });
    expect(whole.body.length).toBe(SPEC.size);
  });
});
