import { startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanup, type CliEvent, closedPort } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

function failedEvent(stdout: string): CliEvent {
  const events = stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as CliEvent);
  const failed = events.filter((e) => e.type === 'failed');
  expect(failed).toHaveLength(1);
  return failed[0]!;
}

describe('--json failed events carry every field of the error', () => {
  it('an HTTP error: name, code, message, statusCode and the URL without its credentials', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/gone.bin', { size: 10, seed: 1 }, { faults: { status: 404 } });
    const dir = await cleanup.tempDir();
    const url = server.url('/gone.bin').replace('http://', 'http://alice:s3cret@');
    const r = await cleanup.run(['--json', url], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stdout).not.toContain('s3cret');
    const { error } = failedEvent(r.stdout) as CliEvent & { error: Record<string, unknown> };
    expect(error).toMatchObject({
      name: 'ProtocolError',
      code: 'MG_ERR_NOT_FOUND',
      statusCode: 404,
      url: server.url('/gone.bin'),
    });
    expect(error['message']).toMatch(/404/);
  });

  it('a connection refused: errno and URL, and it fails at once (nothing ever answered there: no retries)', async () => {
    const dir = await cleanup.tempDir();
    const url = `http://127.0.0.1:${await closedPort()}/file.bin`;
    const r = await cleanup.run(['--json', url], { cwd: dir });
    expect(r.code).toBe(3);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as CliEvent);
    expect(events.filter((e) => e.type === 'retry')).toEqual([]);
    expect(failedEvent(r.stdout).error).toMatchObject({ name: 'NetworkError', code: 'MG_ERR_CONNECT', errno: 'ECONNREFUSED', url });
  });
});
