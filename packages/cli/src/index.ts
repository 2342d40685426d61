/**
 * multiget (package of the CLI): the `multiget` command. The building blocks are exported so they can be tested
 * and reused: argument parsing, input-file parsing, exit codes, the download runner, the displays.
 * @packageDocumentation
 * @module multiget
 */
// First: refuses an unsupported Node.js before anything else loads.
import '@multiget/core/node-version';
export { main, exitCodeOf, type CliIo } from './main.js';
export { parseArgs, DEFAULT_JOBS, type CliCommand, type CliOptions, type OutputMode } from './args/parseArgs.js';
export { FLAGS, FLAG_GROUPS, type FlagSpec, type FlagGroup } from './args/flags.js';
export { parseSize, parseSeconds, parseCount } from './args/units.js';
export { parseHeader } from './args/parseHeader.js';
export { usageText } from './args/usage.js';
export { parseInputFile, type InputEntry } from './input/parseInputFile.js';
export { ExitCode, exitCodeForError, EXIT_CODE_TABLE } from './exitCodes.js';
export { buildTasks, type DownloadTask, type TaskSource } from './runner/buildTasks.js';
export {
  runDownloads,
  type TaskOutcome,
  type RunObserver,
  type RunOptions,
} from './runner/runDownloads.js';
export { type Reporter, type ReporterContext, type TextOutput } from './display/Reporter.js';
export { createReporter } from './display/createReporter.js';
export { TtyDisplay, TTY_REDRAW_INTERVAL_MS } from './display/TtyDisplay.js';
export { PlainDisplay, PLAIN_PROGRESS_INTERVAL_MS } from './display/PlainDisplay.js';
export { JsonDisplay, type JsonEvent, type JsonEventType } from './display/JsonDisplay.js';
export { QuietDisplay } from './display/QuietDisplay.js';
export { Palette } from './display/Palette.js';
export { stringWidth, truncateToWidth, padEndToWidth } from './display/width.js';
export { formatSize, formatSpeed, formatEta, formatDuration, formatPercent, barParts, truncate } from './display/format.js';
export { Redactor } from './redact.js';
export { SignalGuard, type InterruptSignal } from './SignalGuard.js';
export { cliVersion } from './version.js';
