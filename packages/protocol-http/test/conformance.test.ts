// The conformance battery of @multiget/core/testing, against the HTTP test server; and the battery's
// slow reader scenario against a driver that reads everything ahead, which it must fail.
import type { ByteSource, Job, Plugin, RangeRequest } from '@multiget/core';
import { CONFORMANCE_SCENARIOS, describeProtocolConformance, type ConformanceContext } from '@multiget/core/testing';
import { sha256, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

/** The battery's context: the HTTP test server, and `plugins` for each scenario's engine. */
function httpContext(plugins: () => Plugin[]): () => Promise<ConformanceContext> {
  return async () => {
    const server: HttpTestServer = await startHttpServer();
    let counter = 0;
    return {
      plugins,
      serve(size) {
        const path = `/c${++counter}.bin`;
        server.addFile(path, { size, seed: counter });
        return {
          url: server.url(path),
          setFaults: (faults) => server.setFaults(path, faults),
          refuseRanges: () => server.setFaults(path, { refuseRanges: true }),
          replace: (next = size) => server.replaceFile(path, { size: next, seed: 1000 + counter }),
          sha256: () => sha256(server.fileContent(path)),
          bytesServed: () => server.bytesServed(path),
          maxConcurrentTransfers: () => server.maxConcurrentRequests(path),
        };
      },
      missingUrl: () => server.url('/missing.bin'),
      close: () => server.close(),
    };
  };
}

describeProtocolConformance(
  'HTTP',
  httpContext(() => [new HttpPlugin({ useEnvProxy: false })]),
  { runner: { describe, it, afterAll } },
);

/** The HTTP driver, but every body is read to its end at once into memory, whoever reads it. */
class GreedyHttpPlugin extends HttpPlugin {
  override async fetchRange(req: RangeRequest, job: Job): Promise<ByteSource> {
    const source = await super.fetchRange(req, job);
    const held: Uint8Array[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    void (async () => {
      try {
        for await (const chunk of source.body) {
          held.push(Uint8Array.from(chunk));
          wake?.();
        }
      } catch {
        // The scenario cancels the range when it is done: the drain just stops.
      } finally {
        ended = true;
        wake?.();
      }
    })();
    const body = (async function* () {
      for (;;) {
        const next = held.shift();
        if (next !== undefined) yield next;
        else if (ended) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    })();
    return new Proxy(source, {
      get(target, prop) {
        if (prop === 'body') return body;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}

describe('the battery itself', () => {
  it('its slow reader scenario fails a driver that reads the whole body ahead of its reader, kernel buffers allowed for', async () => {
    const tests = new Map<string, () => Promise<void>>();
    const after: Array<() => Promise<void>> = [];
    describeProtocolConformance(
      'greedy HTTP',
      httpContext(() => [new GreedyHttpPlugin({ useEnvProxy: false })]),
      {
        runner: {
          describe: (_name, fn) => fn(),
          it: (name, fn) => tests.set(name, fn),
          afterAll: (fn) => after.push(fn),
        },
        maxReadAheadBytes: 1024 * 1024,
      },
    );
    try {
      const slowReader = tests.get(CONFORMANCE_SCENARIOS[10]);
      expect(slowReader).toBeDefined();
      await expect(slowReader!()).rejects.toThrow(/read ahead \d+ bytes/);
    } finally {
      for (const fn of after) await fn();
    }
  });
});
