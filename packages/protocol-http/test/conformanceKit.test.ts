// The conformance kit's slow reader scenario must fail a driver that reads everything ahead of its
// reader, also now that it allows for the kernel's socket buffers (conformance.test.ts runs the whole
// battery against the real HTTP driver, which passes).
import type { ByteSource, Job, RangeRequest } from '@multiget/core';
import { CONFORMANCE_SCENARIOS, describeProtocolConformance } from '@multiget/core/testing';
import { startHttpServer } from '@multiget/test-servers';
import { describe, expect, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

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
    // The chunks handed on are copies: no `written` to pass on.
    return { start: source.start, end: source.end, body, cancel: (reason?: unknown) => source.cancel(reason) };
  }
}

/** What the slow reader scenario does not use. */
const unused = (): never => {
  throw new Error('not used by the slow reader scenario');
};

describe('the conformance kit', () => {
  it('its slow reader scenario fails a driver that reads the whole body ahead of its reader, kernel buffers allowed for', async () => {
    const tests = new Map<string, () => Promise<void>>();
    const after: Array<() => Promise<void>> = [];
    describeProtocolConformance(
      'greedy HTTP',
      async () => {
        const server = await startHttpServer();
        return {
          plugins: () => [new GreedyHttpPlugin({ useEnvProxy: false })],
          serve(size) {
            server.addFile('/greedy.bin', { size, seed: 5 });
            return {
              url: server.url('/greedy.bin'),
              bytesServed: () => server.bytesServed('/greedy.bin'),
              setFaults: unused,
              replace: unused,
              sha256: unused,
              maxConcurrentTransfers: unused,
            };
          },
          missingUrl: unused,
          close: () => server.close(),
        };
      },
      {
        runner: { describe: (_name, fn) => fn(), it: (name, fn) => tests.set(name, fn), afterAll: (fn) => after.push(fn) },
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
