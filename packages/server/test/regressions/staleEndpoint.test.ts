import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { type Server, createServer } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { connectToService } from '../../src/connect.js';
import { newToken, writeEndpoint } from '../../src/endpoint.js';
import { cleanupTempDirs, tempDir } from '../helpers.js';

// Race seen in shared.e2e ("starts anew after it was killed") on a loaded machine: a service
// listens on its socket before it writes its endpoint file, and the socket path is the same for
// the successor of a killed service. A client that read the dead service's file in between
// connected to the successor with the dead one's token and was refused (MG_ERR_AUTH). An endpoint
// file whose process is gone now counts as no service, so the client waits for the new file.

let listener: Server | undefined;
afterEach(async () => {
  listener?.close();
  listener = undefined;
  await cleanupTempDirs();
});

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

it('does not connect through an endpoint file whose process is gone, even when something listens at its socket', async () => {
  const stateDir = await tempDir('state');
  const socket = join(stateDir, 's.sock');
  listener = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => listener!.listen(socket, resolve));
  const endpoint = { socket, token: newToken(), version: '0', protocolVersion: 1 };
  await writeEndpoint(stateDir, { ...endpoint, pid: await deadPid() });
  expect(await connectToService(stateDir)).toBeUndefined();
  // The same file naming a live process connects.
  await writeEndpoint(stateDir, { ...endpoint, pid: process.pid });
  const found = await connectToService(stateDir);
  expect(found?.endpoint.pid).toBe(process.pid);
  found?.socket.destroy();
});
