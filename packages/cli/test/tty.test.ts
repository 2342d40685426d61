import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, startHttpServer } from '@multiget/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { stringWidth } from '../src/display/width.js';
import { CLI, Cleanup, RUN_TIMEOUT_MS, cliEnv, fileSha256, hasAnsi, hasColour, stripAnsi } from './helpers.js';

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
async function runInTerminal(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = cliEnv(),
  columns = 100,
): Promise<{ code: number | null; output: string }> {
  return runCommandInTerminal([process.execPath, CLI, ...args].map(quote).join(' '), cwd, env, columns);
}

/**
 * Runs a shell command line in a pseudo-terminal of `columns` columns (script's terminal has no
 * size of its own, so the CLI falls back to COLUMNS). `onOutput` sees the output as it arrives and
 * may type into the terminal (e.g. Ctrl-C, which the terminal turns into SIGINT for the foreground
 * process group, as for a user).
 */
async function runCommandInTerminal(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  columns: number,
  onOutput?: (output: string, type: (keys: string) => void) => void,
): Promise<{ code: number | null; output: string }> {
  // The terminal a user has: a colour TERM unless the test names one, and no CI variable (Node's
  // colour detection answers "no colours" whenever CI is set, as it is in .ci/run).
  const { CI: _ci, ...rest } = env;
  const terminalEnv = { ...rest, TERM: rest['TERM'] || 'xterm-256color', COLUMNS: String(columns), LINES: '30' };
  const child = cleanup.child(spawn('script', ['-qfec', command, '/dev/null'], { cwd, env: terminalEnv }));
  let output = '';
  const type = (keys: string): void => void child.stdin.write(keys);
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    onOutput?.(output, type);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

/** The live lines drawn (a bar or a percentage), without escape sequences. */
function liveLines(output: string): string[] {
  return stripAnsi(output)
    .split(/\r?\n|\r/)
    .filter((l) => /\d+%|connecting…/.test(l) && !/^(done|stopped|multiget):/.test(l));
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

  it('draws the segment map under the bar, in colours per connection; --no-segment-map hides it', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/map.bin', FILE, { faults: { throttleBytesPerSec: 1024 * 1024 } });
    const dir = await cleanup.tempDir();
    const shown = await runInTerminal(['-c', '4', '--min-split-size', '256K', '-o', 'a.bin', server.url('/map.bin')], dir);
    expect(shown.code, shown.output).toBe(0);
    const lines = stripAnsi(shown.output).split(/\r?\n|\r/);
    // A bar line followed by its map: block characters only, starting under the bar's inside.
    const maps = lines.flatMap((line, i) => {
      const next = lines[i + 1] ?? '';
      const open = line.indexOf('[');
      return /a\.bin\s+\[[=> ]+\]/.test(line) && /^ +[█▓░]+$/.test(next) ? [{ next, open, width: line.indexOf(']') - open - 1 }] : [];
    });
    expect(maps.length, shown.output).toBeGreaterThan(0);
    for (const m of maps) {
      expect(m.next.indexOf(m.next.trimStart())).toBe(m.open + 1);
      expect(m.next.trimStart()).toHaveLength(m.width);
    }
    expect(maps.some((m) => m.next.includes('▓') && m.next.includes('░'))).toBe(true);
    // Connections in flight get colours of their own.
    const colours = new Set([...shown.output.matchAll(new RegExp(`${String.fromCharCode(27)}\\[(\\d+)m▓`, 'g'))].map((m) => m[1]));
    expect(colours.size, shown.output).toBeGreaterThan(1);
    expect(await fileSha256(join(dir, 'a.bin'))).toBe(sha256(FILE));

    const hidden = await runInTerminal(['-c', '4', '--no-segment-map', '-o', 'b.bin', server.url('/map.bin')], dir);
    expect(hidden.code, hidden.output).toBe(0);
    expect(stripAnsi(hidden.output)).toMatch(/b\.bin\s+\[[=> ]+\]/);
    expect(hidden.output).not.toMatch(/[█▓░]/);
    // Plain lines (a dumb terminal) never carry it.
    const plain = await runInTerminal(['-c', '4', '-o', 'c.bin', server.url('/map.bin')], dir, cliEnv({ TERM: 'dumb' }));
    expect(plain.code, plain.output).toBe(0);
    expect(plain.output).not.toMatch(/[█▓░]/);
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

  it('measures wide characters in terminal columns: a CJK or emoji name never makes a live line wrap', async () => {
    const server = cleanup.server(await startHttpServer());
    const names = ['下载文件名字很长的测试.iso', '😀👨‍👩‍👧‍👦-ｆｕｌｌ.bin'];
    for (const name of names) server.addFile(`/${encodeURIComponent(name)}`, FILE, { faults: { throttleBytesPerSec: 2 * 1024 * 1024 } });
    const dir = await cleanup.tempDir();
    for (const columns of [40, 24]) {
      const urls = names.map((n) => server.url(`/${encodeURIComponent(n)}`));
      const { code, output } = await runInTerminal(['-c', '2', '-d', `w${columns}`, ...urls], dir, cliEnv(), columns);
      expect(code, output).toBe(0);
      const lines = liveLines(output);
      expect(lines.length).toBeGreaterThan(2);
      for (const line of lines) expect(stringWidth(line), line).toBeLessThan(columns);
      if (columns === 40) expect(lines.some((l) => l.startsWith('下载文件'))).toBe(true);
      for (const name of names) expect(await fileSha256(join(dir, `w${columns}`, name))).toBe(sha256(FILE));
    }
  });

  it('TERM=dumb gets plain lines: no cursor movement, no colour', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/tty.bin', FILE, { faults: { throttleBytesPerSec: 4 * 1024 * 1024 } });
    const dir = await cleanup.tempDir();
    const { code, output } = await runInTerminal([server.url('/tty.bin')], dir, cliEnv({ TERM: 'dumb' }));
    expect(code, output).toBe(0);
    expect(hasAnsi(output), JSON.stringify(output)).toBe(false);
    expect(output).toMatch(/^start: /m);
    expect(lastLine(output)).toMatch(/^done: .*tty\.bin/);
  });

  it('FORCE_COLOR=0 turns colours off, as Node defines it', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/tty.bin', FILE);
    const dir = await cleanup.tempDir();
    const { code, output } = await runInTerminal([server.url('/tty.bin')], dir, cliEnv({ FORCE_COLOR: '0' }));
    expect(code, output).toBe(0);
    expect(hasColour(output)).toBe(false);
  });

  it('Ctrl-C stops a shell loop of downloads: the CLI dies of SIGINT after saving, so the shell does not go on', async () => {
    const server = cleanup.server(await startHttpServer());
    server.addFile('/slow.bin', FILE, { faults: { throttleBytesPerSec: 256 * 1024 } });
    const dir = await cleanup.tempDir();
    const cli = [process.execPath, CLI].map(quote).join(' ');
    const loop = `for f in a b; do echo "next: $f"; ${cli} -o "$f.bin" ${quote(server.url('/slow.bin'))}; done; echo "loop went on"`;
    let typed = false;
    const { code, output } = await runCommandInTerminal(`bash -c ${quote(loop)}`, dir, cliEnv(), 100, (out, type) => {
      // Once a.bin is past 0% (so there is partial data to keep), press Ctrl-C.
      if (!typed && /a\.bin\s+\[[=> ]+\]\s+[1-9]\d*%/.test(stripAnsi(out))) {
        typed = true;
        type('\x03');
      }
    });
    expect(typed, output).toBe(true);
    expect(code, output).toBe(130);
    expect(output).toContain('next: a');
    expect(output).not.toContain('next: b');
    expect(output).not.toContain('loop went on');
    expect(stripAnsi(output)).toMatch(/stopped: a\.bin at \d+% \(partial data kept\)/);
    expect(existsSync(join(dir, 'a.bin.mgstate'))).toBe(true);
  });
});
