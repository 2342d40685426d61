import { generateContent, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';
import { makeJob, probed, rangeOf, readAll, rejection } from './helpers.js';

const SPEC = { size: 40_000, seed: 5 };
const BYTES = generateContent(SPEC);

let server: HttpTestServer;

beforeAll(async () => {
  server = await startHttpServer({ tls: true });
  server.addFile('/secure.bin', SPEC);
});

afterAll(async () => {
  await server.close();
});

describe('HTTPS', () => {
  it('downloads over TLS when the test CA is trusted through `ca`', async () => {
    const http = new HttpPlugin({ useEnvProxy: false, ca: server.ca });
    try {
      const job = await probed(http, makeJob(server.url('/secure.bin')));
      expect(job.remote?.ranges).toBe(true);
      expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
      const range = await http.fetchRange(rangeOf(job, 100, 30_000), job);
      expect((await readAll(range)).equals(BYTES.subarray(100, 30_001))).toBe(true);
    } finally {
      await http.close();
    }
  });

  it('trusts the extra CA in addition to the defaults, given as an array of Buffers', async () => {
    const http = new HttpPlugin({ useEnvProxy: false, ca: [Buffer.from(server.ca!)] });
    try {
      const info = await http.probe(makeJob(server.url('/secure.bin')));
      info.initialSource?.cancel();
      expect(info.size).toBe(SPEC.size);
    } finally {
      await http.close();
    }
  });

  it('fails with MG_ERR_TLS when the certificate is not trusted', async () => {
    const http = new HttpPlugin({ useEnvProxy: false });
    try {
      const err = await rejection(http.probe(makeJob(server.url('/secure.bin'))));
      expect(err.code).toBe('MG_ERR_TLS');
      expect(err.retryable).toBe(false);
      expect(err.url).toBe(server.url('/secure.bin'));
    } finally {
      await http.close();
    }
  });

  it('skips verification only with `insecure`', async () => {
    const http = new HttpPlugin({ useEnvProxy: false, insecure: true });
    try {
      const job = await probed(http, makeJob(server.url('/secure.bin')));
      expect((await readAll(job.remote!.initialSource!)).equals(BYTES)).toBe(true);
    } finally {
      await http.close();
    }
  });

  it('fails with MG_ERR_TLS when speaking TLS to a plain HTTP port', async () => {
    const plain = await startHttpServer();
    const http = new HttpPlugin({ useEnvProxy: false });
    try {
      const err = await rejection(http.probe(makeJob(plain.url('/x').replace('http:', 'https:'))));
      expect(err.code).toBe('MG_ERR_TLS');
    } finally {
      await http.close();
      await plain.close();
    }
  });
});
