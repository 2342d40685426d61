// The conformance battery of @multiget/core/testing, against the SFTP test server.
import { describeProtocolConformance } from '@multiget/core/testing';
import { sha256, startSftpServer, type SftpTestServer } from '@multiget/test-servers';
import { afterAll, describe, it } from 'vitest';
import { SftpPlugin } from '../src/index.js';
import { tempHome } from './helpers.js';

describeProtocolConformance('SFTP', async () => {
  const server: SftpTestServer = await startSftpServer({ users: [{ username: 'alice', password: 'pw-conformance' }] });
  const home = await tempHome();
  await home.knownHosts(server.knownHostsLine());
  let counter = 0;
  return {
    plugins: () => [new SftpPlugin({ home: home.path, agent: false })],
    serve(size) {
      const path = `/data/c${++counter}.bin`;
      server.addFile(path, { size, seed: counter });
      // SFTP reads at offsets: ranges cannot be refused, so no refuseRanges here.
      return {
        url: server.url(path, 'alice', 'pw-conformance'),
        setFaults: (faults) => server.setFaults(path, faults),
        replace: (next = size) => server.replaceFile(path, { size: next, seed: 1000 + counter }),
        sha256: () => sha256(server.fileContent(path)),
        bytesServed: () => server.bytesServed(path),
        maxConcurrentTransfers: () => server.maxConcurrentTransfers(path),
      };
    },
    missingUrl: () => server.url('/data/missing.bin', 'alice', 'pw-conformance'),
    close: async () => {
      await server.close();
      await home.dispose();
    },
  };
}, { runner: { describe, it, afterAll }, connections: 8 });
