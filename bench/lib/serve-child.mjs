// Runs the Node test server in its own process, so that the benchmark's own work (hashing the
// downloads) never shares an event loop with the server. Started by testServer.mjs over IPC.
import { startHttpServer } from '../../test-servers/dist/index.js';

const config = JSON.parse(process.argv[2]);
const server = await startHttpServer();
server.addFile(config.path, { size: config.size, seed: config.seed }, { faults: config.faults });

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  const timer = setTimeout(() => process.exit(0), 3000);
  timer.unref();
  await server.close();
  process.exit(0);
}

process.on('message', (message) => {
  if (message === 'close') void shutdown();
  else if (message === 'stats') {
    const requests = server.requests(config.path);
    const count = (fault) => requests.filter((r) => r.faults.includes(fault)).length;
    process.send({
      stats: {
        requests: requests.length,
        dropped: count('dropAfterBytes'),
        refused: count('maxConnections'),
        slow: count('slowRequest'),
        ignoredRange: count('refuseRanges'),
        connections: server.connectionsOpened(),
      },
    });
    server.resetLog();
  } else if (message === 'reset') {
    // Counted faults ("the 3rd request is slow") restart for every tool, so each meets the same server.
    server.setFaults(config.path, config.faults ?? {});
    process.send({ reset: true });
  }
});
// The parent died without telling us: do not outlive it.
process.on('disconnect', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => {}); // Ctrl-C reaches the whole terminal group; the parent decides.
process.send({ origin: server.origin, url: server.url(config.path) });
