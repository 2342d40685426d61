import { homedir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, UsageError } from '../errors.js';

/**
 * Expands a leading `~` or `~/` in a path option to the user's home directory, as a shell would have
 * done had the path been typed on a command line. Library callers copy paths from shell examples
 * (`stateDir: '~/.local/state/multiget'`), and Node's path functions would otherwise create a folder
 * literally named `~`. `~user/...` cannot be resolved portably: it is refused with
 * MG_ERR_INVALID_OPTION rather than taken literally. Other paths are returned unchanged.
 *
 * @param path - the path as given
 * @param option - the option's name, for the error message
 */
export function expandHome(path: string, option: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  if (path.startsWith('~')) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid ${option} "${path}": only ~ and ~/ are expanded; give the full path`);
  }
  return path;
}
