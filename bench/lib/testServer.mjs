// The Node test server (@multiget/test-servers) in a child process, serving one generated file
// with faults.
import { fileURLToPath } from 'node:url';
import { spawnGroup, stopGroup } from './procs.mjs';

const CHILD = fileURLToPath(new URL('./serve-child.mjs', import.meta.url));

/**
 * Starts the server on 127.0.0.1 with `{ size, seed }` at `path` and `faults`.
 * @returns {Promise<{ url: string, stats(): Promise<object>, resetFaults(): Promise<void>, stop(): Promise<void> }>}
 */
export async function startTestServer({ node, path, size, seed, faults }) {
  const config = JSON.stringify({ path, size, seed, faults });
  // Like fork(): an 'ipc' stdio entry; spawnGroup gives it its own process group.
  const child = spawnGroup(node, [CHILD, config], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('test server did not start within 15 s')), 15_000);
    child.once('message', (message) => { clearTimeout(timer); resolve(message); });
    void child.exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`test server exited (${code ?? signal}) before listening`)); });
  }).catch(async (error) => { await stopGroup(child, 'SIGKILL', 1000); throw error; });
  return {
    url: ready.url,
    async stats() {
      if (!child.connected) return undefined;
      return await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 2000);
        child.once('message', (message) => { clearTimeout(timer); resolve(message.stats); });
        child.send('stats');
      });
    },
    /** Restarts the fault counters (see HttpTestServer.setFaults); resolves once the server did. */
    async resetFaults() {
      if (!child.connected) throw new Error('test server is gone');
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('test server did not reset its faults within 5 s')), 5000);
        const onMessage = (message) => {
          if (message?.reset !== true) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve();
        };
        child.on('message', onMessage);
        child.send('reset');
      });
    },
    async stop() {
      if (child.connected) child.send('close');
      await stopGroup(child, 'SIGTERM', 5000);
    },
  };
}
