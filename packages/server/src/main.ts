import { isDownloadError } from '@multiget/core';
import { type ServerOptions, runServer } from './runServer.js';
import { serverVersion } from './version.js';

/** Exit codes of `multiget-server`, the same numbers as the `multiget` command's for the same causes. */
export const ServerExitCode = {
  /** Stopped in order (after `shutdown`, or by SIGTERM/SIGINT). */
  SUCCESS: 0,
  /** `exit` without `shutdown`, the client vanished, or a bug. */
  FAILURE: 1,
  /** Bad command line, or an unsafe path (MG_ERR_UNSAFE_PATH). */
  USAGE: 2,
  /** The state directory is locked by another process or cannot be created. */
  FILE_SYSTEM: 8,
} as const;

const USAGE = `Usage: multiget-server (--stdio | --node-ipc | --listen) [options]

Serves a Multiget download manager over JSON-RPC with LSP framing.

  --stdio                 talk over stdin/stdout (one client)
  --node-ipc              talk over the Node IPC channel (started with child_process.fork)
  --listen                be the shared service of the state directory: listen on a private
                          Unix socket (named pipe on Windows) announced in STATE_DIR/service.json
  --idle-exit SECONDS     with --listen: exit after this long with no client and nothing to do
                          (default 60)
  --state-dir DIR         where the queue, history, settings and lock live
                          (default: $MULTIGET_STATE_DIR, else a per-user directory)
  --dir DIR               download directory (default: the saved setting, else ~/Downloads, else .)
  --restore MODE          unfinished downloads at start: queued (default) or paused
  --clientProcessId PID   stop when this process is gone (vscode-languageclient passes it)
  --help, --version
`;

/** A parsed command line: serve with these options, or print something and stop. */
export type ParsedArgs = { kind: 'serve'; options: ServerOptions } | { kind: 'help' } | { kind: 'version' };

/** Thrown for a bad command line; the message is meant for the user. */
export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

/**
 * Parses `multiget-server`'s arguments (without node and the script). Accepts `--flag value` and
 * `--flag=value`, as vscode-languageclient passes `--clientProcessId=N`. Unknown arguments are
 * refused, so a typo in a launch configuration is an error, not a silently ignored option.
 */
export function parseServerArgs(argv: readonly string[]): ParsedArgs {
  let transport: ServerOptions['transport'] | undefined;
  const options: Omit<ServerOptions, 'transport'> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0 && arg.startsWith('--')) return arg.slice(eq + 1);
      const next = argv[++i];
      if (next === undefined) throw new ArgsError(`${name} needs a value`);
      return next;
    };
    switch (name) {
      case '--help':
      case '-h':
        return { kind: 'help' };
      case '--version':
        return { kind: 'version' };
      case '--stdio':
      case '--node-ipc':
      case '--listen': {
        const t = name === '--stdio' ? 'stdio' : name === '--node-ipc' ? 'node-ipc' : 'socket';
        if (transport !== undefined && transport !== t) throw new ArgsError('Give one transport: --stdio, --node-ipc or --listen');
        transport = t;
        break;
      }
      case '--idle-exit': {
        const v = value();
        if (!/^\d{1,7}$/.test(v)) throw new ArgsError(`--idle-exit must be a number of seconds, not "${v}"`);
        options.idleExitMs = Number(v) * 1000;
        break;
      }
      case '--socket':
      case '--pipe':
        throw new ArgsError(`${name} is not supported; use --stdio, --node-ipc or --listen`);
      case '--state-dir':
        options.stateDir = nonEmpty(name, value());
        break;
      case '--dir':
        options.dir = nonEmpty(name, value());
        break;
      case '--restore': {
        const v = value();
        if (v !== 'queued' && v !== 'paused') throw new ArgsError(`--restore must be queued or paused, not "${v}"`);
        options.restore = v;
        break;
      }
      case '--clientProcessId': {
        const v = value();
        const pid = Number(v);
        if (!/^\d+$/.test(v) || !Number.isSafeInteger(pid) || pid <= 0) throw new ArgsError(`--clientProcessId must be a process id, not "${v}"`);
        options.clientProcessId = pid;
        break;
      }
      default:
        throw new ArgsError(`Unknown argument "${arg}" (see --help)`);
    }
  }
  if (transport === undefined) throw new ArgsError('Choose a transport: --stdio, --node-ipc or --listen (see --help)');
  if (options.idleExitMs !== undefined && transport !== 'socket') throw new ArgsError('--idle-exit applies to --listen only');
  return { kind: 'serve', options: { ...options, transport } };
}

function nonEmpty(name: string, v: string): string {
  if (v === '' || v.includes('\0')) throw new ArgsError(`${name} needs a non-empty path`);
  return v;
}

/**
 * The `multiget-server` executable: parses `argv`, serves until told to stop, and resolves with
 * the exit code (the bin passes it to `process.exit`). Startup failures are printed to stderr with
 * their `MG_ERR_*` code; MG_ERR_STATE_LOCKED when another service holds the state directory.
 */
export async function main(argv: readonly string[]): Promise<number> {
  let parsed: ParsedArgs;
  try {
    parsed = parseServerArgs(argv);
  } catch (err) {
    process.stderr.write(`multiget-server: ${err instanceof Error ? err.message : String(err)}\n`);
    return ServerExitCode.USAGE;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return ServerExitCode.SUCCESS;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`multiget-server ${serverVersion()}\n`);
    return ServerExitCode.SUCCESS;
  }
  try {
    return await runServer(parsed.options);
  } catch (err) {
    if (isDownloadError(err)) {
      process.stderr.write(`multiget-server: error: ${err.message} (${err.code})\n`);
      // An unsafe path (a --dir inside the state directory, a socket directory that is not private)
      // is a setting to fix, not a lock to wait for: exit 8 must mean "another service has it".
      if (err.code.startsWith('MG_ERR_INVALID_') || err.code === 'MG_ERR_UNSAFE_PATH') return ServerExitCode.USAGE;
      return err.code === 'MG_ERR_INTERNAL' ? ServerExitCode.FAILURE : ServerExitCode.FILE_SYSTEM;
    }
    process.stderr.write(`multiget-server: error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ServerExitCode.FAILURE;
  }
}
