import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

/**
 * The executable users run (it checks the Node version, tunes V8 and imports the built dist/cli.js;
 * the test task depends on the build).
 */
export const CLI = fileURLToPath(new URL('../bin/multiget.js', import.meta.url));

/** Longest a single CLI run may take before it is killed and the test fails. */
export const RUN_TIMEOUT_MS = 45_000;

/** What a finished CLI process left behind. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** One line of `--json` output. */
export interface CliEvent {
  type: string;
  id: string;
  url: string;
  bytesDone?: number;
  total?: number;
  error?: { code: string; message: string };
  [key: string]: unknown;
}

/** State directories handed out by {@link cliEnv}, removed after each test file. */
const stateDirs: string[] = [];
afterAll(async () => {
  await Promise.all(stateDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/**
 * The environment for the CLI: the caller's, without proxy variables (local test traffic must not
 * go through whatever proxy this machine is configured with) and without NO_COLOR. Each call gets
 * a state directory of its own (MULTIGET_STATE_DIR, where the content store lives), so that a run
 * is never served from a file another test downloaded, nor writes the user's own store; tests of
 * the content store reuse one environment across runs.
 */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^([a-z0-9]+_proxy|no_color|force_color)$/i.test(k)) continue;
    env[k] = v;
  }
  const stateDir = join(tmpdir(), `multiget-cli-state-${randomUUID()}`);
  stateDirs.push(stateDir);
  return { ...env, MULTIGET_STATE_DIR: stateDir, ...extra };
}

/** A running CLI process whose output is collected as it arrives. */
/** How to start the CLI: its directory, environment, standard input, and (as root) another user. */
export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  uid?: number;
  gid?: number;
}

export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  readonly #waiters = new Set<() => void>();

  constructor(args: readonly string[], options: RunOptions) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd,
      env: options.env ?? cliEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      for (const w of this.#waiters) w();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      for (const w of this.#waiters) w();
    });
    this.child.stdin!.end(options.input ?? '');
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code, signal) => {
        for (const w of this.#waiters) w();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** The `--json` events printed so far. */
  events(): CliEvent[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as CliEvent);
  }

  /**
   * Resolves once `predicate` holds for the output so far; rejects after `timeoutMs` or when the
   * process exits first, so a test never waits forever.
   */
  async waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`Timed out waiting for ${what}\nstderr: ${this.stderr}`)), timeoutMs);
      const check = (): void => {
        if (predicate()) finish();
        else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          finish(new Error(`The CLI exited before ${what}\nstdout: ${this.stdout.slice(-2000)}\nstderr: ${this.stderr}`));
        }
      };
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      this.#waiters.add(check);
    });
  }

  /** Waits for a progress event at or beyond `fraction` of the file. */
  async waitForProgress(fraction: number, timeoutMs = 30_000): Promise<void> {
    await this.waitFor(
      () => this.events().some((e) => e.type === 'progress' && e.total !== undefined && e.bytesDone! >= e.total * fraction),
      `progress ≥ ${Math.round(fraction * 100)}%`,
      timeoutMs,
    );
  }

  /** Sends a signal if the process is still running. */
  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

/**
 * Everything a test starts, torn down in afterEach whatever happened: processes are killed,
 * servers closed, temp directories removed.
 */
export class Cleanup {
  readonly #children: ChildProcess[] = [];
  readonly #servers: Array<{ close(): Promise<void> }> = [];
  readonly #dirs: string[] = [];

  /** Starts the CLI; killed at teardown if still running. */
  start(args: readonly string[], options: RunOptions): CliProcess {
    const p = new CliProcess(args, options);
    this.child(p.child);
    return p;
  }

  /** Runs the CLI to completion, killing it after {@link RUN_TIMEOUT_MS}. */
  async run(args: readonly string[], options: RunOptions): Promise<CliResult> {
    const p = this.start(args, options);
    const timer = setTimeout(() => p.kill('SIGKILL'), RUN_TIMEOUT_MS);
    try {
      return await p.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Any other child process to kill at teardown. */
  child<T extends ChildProcess>(child: T): T {
    this.#children.push(child);
    return child;
  }

  /** A test server (HTTP or proxy), closed at teardown. */
  server<T extends { close(): Promise<void> }>(server: T): T {
    this.#servers.push(server);
    return server;
  }

  async tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'multiget-cli-'));
    this.#dirs.push(dir);
    return dir;
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.#children.splice(0).map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const closed = new Promise((resolve) => child.once('close', resolve));
        child.kill('SIGKILL');
        await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
      }),
    );
    await Promise.all(this.#servers.splice(0).map((s) => s.close().catch(() => undefined)));
    await Promise.all(this.#dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** sha256 of a file's bytes, hex. */
export async function fileSha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** A TCP port on 127.0.0.1 where nothing listens (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** True when the text holds an ANSI escape sequence. */
export function hasAnsi(text: string): boolean {
  return text.includes('\x1b');
}

/** Text without ANSI escape sequences. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

/** True when the text holds an SGR (colour or style) escape sequence. */
export function hasColour(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /\x1b\[[0-9;]*m/.test(text);
}
