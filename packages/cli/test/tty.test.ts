import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, Cleanup, RUN_TIMEOUT_MS, cliEnv, fileSha256, hasColour, stripAnsi } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

const FILE = { size: 4 * 1024 * 1024 + 5, seed: 41 };
const hasScript = spawnSync('script', ['--version']).status === 0;

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the CLI under util-linux `script`, which gives it a pseudo-terminal for stdin, stdout and
 * stderr, and resolves with everything the terminal received.
 */
async function runInTerminal(args: string[], cwd: string, env: NodeJS.ProcessEnv = cliEnv()): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const child = cleanup.child(
    spawn('script', ['-qfec', command, '/dev/null'], { cwd, env: { ...env, COLUMNS: '100', LINES: '30' } }),
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

function lastLine(output: string): string {
  const lines = stripAnsi(output)
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.at(-1) ?? '';
}

describe.skipIf(!hasScript)('on a terminal', () => {
  it('draws a live display with a bar and percent, and ends with the done line', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/tty.bin', FILE, { faults: { throttleBytesPerSec: 1024 * 1024 } });
    const dir = await cleanup.tempDir();
    const { code, output } = await runInTerminal(['-c', '2', server.url('/tty.bin')], dir);
    expect(code, output).toBe(0);
    const plain = stripAnsi(output);
    expect(plain).toMatch(/tty\.bin\s+\[[=> ]+\]\s+\d{1,3}%/);
    expect(plain).toMatch(/MiB\/s/);
    expect(lastLine(output)).toMatch(/^done: .*tty\.bin \(4\.0 MiB/);
    expect(hasColour(output)).toBe(true);
    expect(await fileSha256(join(dir, 'tty.bin'))).toBe(sha256(FILE));
  });

  it('NO_COLOR and --no-color turn colours off but keep the live display', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/tty.bin', FILE, { faults: { throttleBytesPerSec: 2 * 1024 * 1024 } });
    const dir = await cleanup.tempDir();
    const runs = [
      await runInTerminal(['-o', 'a.bin', server.url('/tty.bin')], dir, cliEnv({ NO_COLOR: '1' })),
      await runInTerminal(['--no-color', '-o', 'b.bin', server.url('/tty.bin')], dir),
    ];
    for (const { code, output } of runs) {
      expect(code, output).toBe(0);
      expect(hasColour(output)).toBe(false);
      expect(lastLine(output)).toMatch(/^done: /);
    }
  });
});
