// Regression: the service bundled into the extension (dist/server.mjs, ESM) crashed at start once
// SFTP joined it (ssh2 is CommonJS and uses __dirname). Spawn the bundle the way the language client
// does and complete an initialize round trip. (The test task depends on the build.)
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { expect, it } from 'vitest';

const BUNDLE = fileURLToPath(new URL('../dist/server.mjs', import.meta.url));

it('the bundled service starts and answers initialize, with every protocol plugin loaded', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mg-bundle-'));
  const child = spawn(process.execPath, [BUNDLE, '--stdio', '--state-dir', join(dir, 'state'), '--dir', dir], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const rpc = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  rpc.listen();
  try {
    const init = await Promise.race([
      rpc.sendRequest<{ multiget?: { schemes: string[] } }>('initialize', { processId: null, rootUri: null, capabilities: {} }),
      new Promise<never>((_, reject) => child.on('exit', (code) => reject(new Error(`the bundle exited with ${code}: ${stderr}`)))),
    ]);
    expect(init.multiget?.schemes.sort()).toEqual(['ftp', 'ftps', 'http', 'https', 'sftp']);
  } finally {
    rpc.dispose();
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});
