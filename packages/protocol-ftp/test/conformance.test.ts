// The conformance battery of @multiget/core/testing, against the FTP test server.
import { describeProtocolConformance } from '@multiget/core/testing';
import { sha256, startFtpServer, type FtpTestServer } from '@multiget/test-servers';
import { afterAll, describe, it } from 'vitest';
import { FtpPlugin } from '../src/index.js';

describeProtocolConformance('FTP', async () => {
  const server: FtpTestServer = await startFtpServer();
  let counter = 0;
  return {
    plugins: () => [new FtpPlugin()],
    serve(size) {
      const path = `/c${++counter}.bin`;
      // Ranges are refused server-wide on FTP (no REST); each file starts with them allowed.
      server.setFaults({});
      server.addFile(path, { size, seed: counter });
      return {
        url: server.url(path),
        setFaults: (faults) => server.setFileFaults(path, faults),
        refuseRanges: () => server.setFaults({ refuseRest: 'all' }),
        replace: (next = size) => server.replaceFile(path, { size: next, seed: 1000 + counter }),
        sha256: () => sha256(server.fileContent(path)),
        bytesServed: () => server.bytesServed(path),
        maxConcurrentTransfers: () => server.maxConcurrentTransfers(path),
      };
    },
    missingUrl: () => server.url('/missing.bin'),
    close: () => server.close(),
  };
}, { runner: { describe, it, afterAll } });
