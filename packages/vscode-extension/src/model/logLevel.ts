import type { LogLevelSetting, LogParams } from '@multiget/server/protocol';

/**
 * VS Code's `LogLevel` enum values (Off 0, Trace 1, Debug 2, Info 3, Warning 4, Error 5), as the
 * service's log levels. Kept as numbers so that this module does not need the `vscode` module.
 */
const BY_VSCODE_LEVEL: readonly LogLevelSetting[] = ['off', 'trace', 'debug', 'info', 'warn', 'error'];

/**
 * The service log level that matches an output channel's level (the one "Developer: Set Log Level"
 * and the gear of the Output view change): lines at that level and above are forwarded, none when off.
 */
export function serviceLogLevel(vscodeLevel: number): LogLevelSetting {
  return BY_VSCODE_LEVEL[vscodeLevel] ?? 'info';
}

/** The LogOutputChannel method that writes a line of the service's log. */
export function channelMethod(level: LogParams['level']): 'error' | 'warn' | 'info' | 'debug' | 'trace' {
  return level;
}
