// The conformance battery of @multiget/core/testing, against the HTTP test server.
import { describeProtocolConformance } from '@multiget/core/testing';
import { sha256, startHttpServer, type HttpTestServer } from '@multiget/test-servers';
import { afterAll, describe, it } from 'vitest';
import { HttpPlugin } from '../src/index.js';

describeProtocolConformance('HTTP', async () => {
  const server: HttpTestServer = await startHttpServer();
  let counter = 0;
  return {
    plugins: () => [new HttpPlugin({ useEnvProxy: false })],
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
}, { runner: { describe, it, afterAll } });
