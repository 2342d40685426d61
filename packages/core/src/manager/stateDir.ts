import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { expandHome } from '../util/homePath.js';
import { JsonFileStore } from './store/JsonFileStore.js';
import type { ManagerStore } from './store/ManagerStore.js';
import type { ManagerOptions } from './types.js';

/** What the state directory's location depends on (the process's by default; tests pass their own). */
export interface StateDirContext {
  /** The environment (`MULTIGET_STATE_DIR`, `XDG_STATE_HOME`, `LOCALAPPDATA`). */
  env: NodeJS.ProcessEnv;
  /** The platform (`win32`, `darwin`, others). */
  platform: NodeJS.Platform;
  /** The user's home directory. */
  home: string;
}

function processContext(): StateDirContext {
  return { env: process.env, platform: process.platform, home: homedir() };
}

/**
 * Where the service keeps its queue, history, settings and lock (and the content store, which the
 * CLI shares), in order of precedence:
 *
 * 1. `option` (`--state-dir`), resolved against the working directory;
 * 2. `MULTIGET_STATE_DIR`, resolved the same way;
 * 3. the per-user default: `%LOCALAPPDATA%\multiget` on Windows, `~/Library/Application
 *    Support/multiget` on macOS, `$XDG_STATE_HOME/multiget` or `~/.local/state/multiget`
 *    elsewhere. It is *state* in the XDG sense (a queue and a history that should survive a
 *    reboot but are not user documents or configuration), hence XDG_STATE_HOME, not CONFIG or CACHE.
 */
export function resolveStateDir(option: string | undefined, context: StateDirContext = processContext()): string {
  if (option !== undefined && option !== '') return resolve(option);
  const fromEnv = context.env['MULTIGET_STATE_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  const { env, platform, home } = context;
  if (platform === 'win32') {
    const local = env['LOCALAPPDATA'];
    return join(local && isAbsolute(local) ? local : join(home, 'AppData', 'Local'), 'multiget');
  }
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'multiget');
  // The XDG spec says to ignore a relative XDG_STATE_HOME.
  const xdg = env['XDG_STATE_HOME'];
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.local', 'state'), 'multiget');
}


/**
 * Where a manager keeps its state: its store (`options.store`, else the JSON files of `stateDir`,
 * else none) and its content store's directory (`contentDir`, else `stateDir`; `false` for none;
 * undefined: in the store, or in memory). Paths are expanded (`~`) and made absolute.
 */
export function stateLocations(options: Pick<ManagerOptions, 'stateDir' | 'store' | 'contentDir'>): {
  store: ManagerStore | undefined;
  contentDir: string | false | undefined;
} {
  const stateDir = options.stateDir ? resolve(expandHome(options.stateDir, 'stateDir')) : undefined;
  const store = options.store ?? (stateDir !== undefined ? new JsonFileStore(stateDir) : undefined);
  const contentDir = typeof options.contentDir === 'string' ? resolve(expandHome(options.contentDir, 'contentDir')) : (options.contentDir ?? stateDir);
  return { store, contentDir };
}
