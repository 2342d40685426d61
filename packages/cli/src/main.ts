import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import {
  type DigestAlgorithm,
  ErrorCodes,
  LazyProtocolPlugin,
  allAtOnce,
  MAX_METALINK_BYTES,
  Manager,
  OPTION_LIMITS,
  TraceRecorder,
  UsageError,
  fileSystemError,
  hashFile,
  redactUrl,
  resolveStateDir,
  toDownloadError,
} from '@multiget/core';
import { type CliOptions, parseArgs } from './args/parseArgs.js';
import { completionScript } from './args/completions.js';
import { usageText } from './args/usage.js';
import { createReporter } from './display/createReporter.js';
import { errorLine, summaryLine } from './display/lines.js';
import { Palette } from './display/Palette.js';
import type { Reporter, TextOutput } from './display/Reporter.js';
import { ExitCode, exitCodeForError } from './exitCodes.js';
import { parseInputFile } from './input/parseInputFile.js';
import { expandMetalinks, isMetalinkSource } from './input/metalinkSources.js';
import { LogOutput } from './display/LogOutput.js';
import { Redactor } from './redact.js';
import { type DownloadTask, type TaskSource, buildTasks } from './runner/buildTasks.js';
import { type FolderNote, expandFolders, reportFolderNotes } from './runner/expandFolders.js';
import { type RunObserver, type TaskOutcome, runDownloads } from './runner/runDownloads.js';
import { type InterruptSignal, SignalGuard } from './SignalGuard.js';
import { cliVersion } from './version.js';

/** The process streams and environment `main` works with. */
export interface CliIo {
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
  /** Read for `-i -`. */
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
}

/** Headers whose values are secrets, like passwords. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** Longest wait for plugins to release their connections once everything is done. */
const CLOSE_TIMEOUT_MS = 5000;

/**
 * Runs `multiget` with `argv` (arguments only, without node and the script) and resolves with the
 * exit code; never rejects. Installs SIGINT/SIGTERM handlers for the duration of the run;
 * `onInterrupted` learns which signal interrupted it (the executable then re-raises it).
 */
export async function main(
  argv: readonly string[],
  io: CliIo = processIo(),
  onInterrupted?: (signal: InterruptSignal) => void,
): Promise<number> {
  const fallbackPalette = new Palette(Palette.wanted(!argv.includes('--no-color'), io.stderr));
  const fail = (err: unknown): number => {
    const error = toDownloadError(err);
    io.stderr.write(errorLine(fallbackPalette, error.message, error.code));
    return exitCodeForError(error.code);
  };

  let options: CliOptions;
  try {
    const command = parseArgs(argv);
    if (command.kind === 'help') {
      io.stdout.write(usageText());
      return ExitCode.SUCCESS;
    }
    if (command.kind === 'completion') {
      io.stdout.write(completionScript(command.shell));
      return ExitCode.SUCCESS;
    }
    if (command.kind === 'version') {
      io.stdout.write(`multiget ${cliVersion()}\n`);
      return ExitCode.SUCCESS;
    }
    options = command.options;
  } catch (err) {
    return fail(err);
  }

  let prepared: PreparedRun;
  try {
    prepared = await prepareRun(options, io);
  } catch (err) {
    return fail(err);
  }
  const { manager, redactor, log } = prepared;
  let { tasks } = prepared;
  let notes: FolderNote[] = [];
  if (options.recursive) {
    try {
      ({ tasks, notes } = await expandFolders(manager, options, tasks));
    } catch (err) {
      await closeManager(manager);
      return fail(err);
    }
  }

  const palette = new Palette(options.mode !== 'json' && Palette.wanted(options.color, io.stderr));
  const reporter = createReporter(options.mode, {
    stdout: io.stdout,
    stderr: io.stderr,
    palette,
    redactor,
    multiple: tasks.length > 1,
    fallbackColumns: Number(io.env['COLUMNS']) || undefined,
    // A terminal that cannot move its cursor (TERM=dumb: Emacs shell buffers, some CI consoles).
    dumbTerminal: io.env['TERM'] === 'dumb',
    segmentMap: options.segmentMap,
  });
  reportFolderNotes(notes, options.mode, { stdout: io.stdout, stderr: io.stderr, palette, redactor });
  if (log && !log.toFile) log.routeTerminal((line) => reporter.log(line));
  const logged = withTaskLog(reporter, manager);
  const recorder = options.trace !== undefined ? new TraceRecorder() : undefined;
  const observer: RunObserver = recorder
    ? {
        started: (task, download) => {
          recorder.attach(download);
          logged.started(task, download);
        },
        finished: (outcome) => logged.finished(outcome),
      }
    : logged;
  let traceFailure: number | undefined;
  const guard = new SignalGuard(() => reporter.error('interrupted; run the same command again to resume')).install();
  let outcomes: TaskOutcome[];
  try {
    outcomes = await runDownloads(manager, tasks, { signal: guard.signal }, observer);
  } finally {
    // Written however the run ended: a failed or interrupted run is what a trace is for.
    if (recorder) traceFailure = await writeTrace(recorder, options.trace!, reporter);
    reporter.close();
    await closeManager(manager);
    guard.dispose();
    log?.close();
  }
  if (options.printChecksum !== undefined && !guard.received) {
    const failure = await printChecksums(outcomes, options.printChecksum, reporter);
    if (failure !== undefined) return failure;
  }
  // After several downloads, one line with the count of each ending (the lines above scroll away).
  if (options.mode === 'human' && tasks.length > 1) io.stderr.write(summaryLine(palette, outcomes));
  if (guard.received) onInterrupted?.(guard.received);
  const code = exitCodeOf(outcomes);
  return guard.exitCode ?? (code === ExitCode.SUCCESS && traceFailure !== undefined ? traceFailure : code);
}

/** Writes `--trace FILE`; reports a failure and resolves with its exit code. */
async function writeTrace(recorder: TraceRecorder, file: string, reporter: Reporter): Promise<number | undefined> {
  try {
    await recorder.write(file);
    return undefined;
  } catch (err) {
    const error = toDownloadError(err);
    reporter.error(`Cannot write the trace: ${error.message}`, error.code);
    return exitCodeForError(error.code);
  }
}

/**
 * `--print-checksum`: the digest of every finished file, in input order. A digest the download was
 * verified against is reused; any other is computed from the file on disk. Resolves with an exit
 * code when a file cannot be read.
 */
async function printChecksums(outcomes: readonly TaskOutcome[], algorithm: DigestAlgorithm, reporter: Reporter): Promise<number | undefined> {
  for (const o of outcomes) {
    if (o.status !== 'done') continue;
    const { file, digest, verified } = o.result;
    try {
      const hex = verified && digest?.algorithm === algorithm ? digest.hex : await hashFile(file, algorithm);
      reporter.checksum(o.task, file, algorithm, hex);
    } catch (err) {
      const error = fileSystemError(err, `read ${file}`);
      reporter.error(error.message, error.code);
      return exitCodeForError(error.code);
    }
  }
  return undefined;
}

/** 0 when every download succeeded, else the exit code of the first failure in input order. */
export function exitCodeOf(outcomes: readonly TaskOutcome[]): number {
  for (const o of outcomes) {
    if (o.status === 'failed') return exitCodeForError(o.error.code);
    if (o.status === 'skipped') return ExitCode.INTERNAL;
  }
  return ExitCode.SUCCESS;
}

async function readSources(options: CliOptions, io: CliIo): Promise<TaskSource[]> {
  const sources: TaskSource[] = options.urls.map((url) => ({ url, headers: [] }));
  if (options.sameFile) {
    if (options.inputFile !== undefined) {
      throw new UsageError(ErrorCodes.INVALID_OPTION, '--same-file applies to the URLs on the command line; in an input file, put the mirrors of a file on one line, separated by tabs');
    }
    if (sources.length < 2) throw new UsageError(ErrorCodes.INVALID_OPTION, '--same-file needs at least two URLs of the same file');
    return [{ url: options.urls[0]!, headers: [], mirrors: options.urls.slice(1) }];
  }
  if (options.inputFile === undefined) return sources;
  const name = options.inputFile === '-' ? '<stdin>' : options.inputFile;
  let content: string;
  try {
    content = options.inputFile === '-' ? await text(io.stdin) : await readFile(options.inputFile, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Cannot read the input file ${name} (${reason})`, { cause: err });
  }
  return [...sources, ...parseInputFile(content, name)];
}

/**
 * A manager without a state directory: the CLI's state lives in the sidecar files beside each target.
 * Every protocol is offered, but only the plugins this run's URLs need are loaded (each pulls in a
 * sizeable library: undici, basic-ftp, ssh2), and they are loaded before any download starts, so
 * that a bad option fails the run at once.
 */
async function createManager(
  options: CliOptions,
  io: CliIo,
  tasks: ReadonlyArray<{ readonly url: string }>,
  log: LogOutput | undefined,
): Promise<Manager> {
  let ca: Buffer | undefined;
  if (options.cacert !== undefined) {
    try {
      ca = await readFile(options.cacert);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new UsageError(ErrorCodes.INVALID_OPTION, `Cannot read --cacert ${options.cacert} (${reason})`, { cause: err });
    }
  }
  const passphrase = options.sshPassphrase ?? (io.env['MULTIGET_SSH_PASSPHRASE'] || undefined);
  const plugins = protocolPlugins(options, ca, passphrase);
  const schemes = new Set(tasks.map((t) => URL.parse(t.url)?.protocol));
  await Promise.all(plugins.filter((p) => p.schemes.some((s) => schemes.has(s))).map((p) => p.load()));
  return Manager.open({
    plugins,
    ...(options.fixedConnections ? { connectionPolicy: allAtOnce } : {}),
    ...(log !== undefined ? { logger: log, logLevel: options.logLevel } : {}),
    // The content store is shared with the service and other runs: the per-user state directory.
    contentDir: options.noCache ? false : resolveStateDir(undefined, { env: io.env, platform: process.platform, home: homedir() }),
    ...(options.userAgent !== undefined ? { userAgent: options.userAgent } : {}),
    ...(options.lowestSpeed !== undefined ? { lowestSpeed: options.lowestSpeed } : {}),
    ...(options.lowestSpeedTimeMs !== undefined ? { lowestSpeedTimeMs: options.lowestSpeedTimeMs } : {}),
    settings: {
      maxConcurrent: options.jobs,
      maxConnections: OPTION_LIMITS.maxConnections.max,
      ...(options.maxConnectionsPerHost !== undefined ? { maxConnectionsPerHost: options.maxConnectionsPerHost } : {}),
      ...(options.overallRateLimit !== undefined ? { rateLimit: options.overallRateLimit } : {}),
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      dir: process.cwd(),
    },
  });
}

/**
 * Fetches a Metalink document through the engine (so proxies, TLS trust and credentials apply) into
 * a private temporary directory, and returns its text. At most MAX_METALINK_BYTES.
 */
async function fetchMetalink(manager: Manager, url: string, source: TaskSource, options: CliOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'multiget-meta4-'));
  try {
    const dl = manager.engine.download(url, {
      dir,
      headers: [...options.headers, ...source.headers],
      ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
      connections: 1,
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
    });
    let tooBig = false;
    dl.on('start', (info) => {
      if (info.size !== undefined && info.size > MAX_METALINK_BYTES) {
        tooBig = true;
        void dl.cancel();
      }
    });
    const result = await dl.done.catch((err: unknown) => {
      if (tooBig) throw new UsageError(ErrorCodes.INVALID_METALINK, `The Metalink ${redactUrl(url)} is larger than ${MAX_METALINK_BYTES} bytes`);
      throw err;
    });
    if (result.size > MAX_METALINK_BYTES) {
      throw new UsageError(ErrorCodes.INVALID_METALINK, `The Metalink ${redactUrl(url)} is larger than ${MAX_METALINK_BYTES} bytes`);
    }
    return await readFile(result.file, 'utf8');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What a run needs once its sources are read and checked. */
interface PreparedRun {
  tasks: DownloadTask[];
  manager: Manager;
  redactor: Redactor;
  log: LogOutput | undefined;
}

/**
 * Reads the sources, checks them, opens the log and the manager, and builds the tasks. A function of
 * its own so that what is built on the way (every source, and the tasks of the first check, each
 * with two parsed URLs and its options) is dropped when it returns: in `main`, whose frame stays
 * suspended for the whole run, a list of 10,000 URLs kept 20,000 tasks.
 */
async function prepareRun(options: CliOptions, io: CliIo): Promise<PreparedRun> {
  let log: LogOutput | undefined;
  try {
    const sources = await readSources(options, io);
    // Everything but a Metalink is checked first: a bad option fails the run at once.
    const local = sources.filter((s) => !isMetalinkSource(s));
    const localTasks = local.length > 0 ? buildTasks(options, local) : [];
    const redactor = secretsOf(options, localTasks);
    for (const s of sources) redactor.addUrl(s.url);
    if (options.logLevel !== 'off') log = LogOutput.open(options.logFile, redactor, (line) => io.stderr.write(line));
    const manager = await createManager(options, io, sources, log);
    let tasks: DownloadTask[];
    try {
      tasks = buildTasks(options, await expandMetalinks(sources, (url, source) => fetchMetalink(manager, url, source, options)));
    } catch (err) {
      await closeManager(manager);
      throw err;
    }
    // A Metalink's URLs are known only now; the redactor is the log's too, so it learns them in place.
    addTaskSecrets(redactor, tasks);
    return { tasks, manager, redactor, log };
  } catch (err) {
    log?.close();
    throw err;
  }
}

/**
 * The reporter, with one log line per download that starts: which URL the download id on the
 * following lines stands for.
 */
function withTaskLog(reporter: Reporter, manager: Manager): RunObserver {
  const log = manager.engine.log;
  return {
    started: (task, download) => {
      log.info('download', () => ({ download: download.id, url: task.label }));
      reporter.started(task, download);
    },
    finished: (outcome) => reporter.finished(outcome),
  };
}

/** The protocol plugins, each imported and built on first use. Exported for tests. */
export function protocolPlugins(options: CliOptions, ca: Buffer | undefined, passphrase: string | undefined): LazyProtocolPlugin[] {
  return [
    new LazyProtocolPlugin('HttpPlugin', ['http:', 'https:'], async () => {
      const { HttpPlugin } = await import('@multiget/protocol-http');
      return new HttpPlugin({
        ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
        useEnvProxy: !options.noProxy,
        ...(ca !== undefined ? { ca } : {}),
        insecure: options.insecure,
        ...(options.maxRedirects !== undefined ? { maxRedirects: options.maxRedirects } : {}),
        trustRedirects: options.locationTrusted,
        // The engine's stall timer covers ranged requests but not the probe's wait for headers:
        // --timeout promises "no data for SECONDS" everywhere.
        ...(options.stallTimeoutMs !== undefined ? { headersTimeoutMs: options.stallTimeoutMs } : {}),
      });
    }),
    new LazyProtocolPlugin('FtpPlugin', ['ftp:', 'ftps:'], async () => {
      const { FtpPlugin } = await import('@multiget/protocol-ftp');
      return new FtpPlugin({
        ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
        useEnvProxy: !options.noProxy,
        tls: options.sslReqd ? 'explicit' : 'off',
        ...(ca !== undefined ? { ca } : {}),
        insecure: options.insecure,
        ...(options.stallTimeoutMs !== undefined ? { timeoutMs: options.stallTimeoutMs } : {}),
      });
    }),
    new LazyProtocolPlugin('SftpPlugin', ['sftp:'], async () => {
      const { SftpPlugin } = await import('@multiget/protocol-sftp');
      return new SftpPlugin({
        ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
        useEnvProxy: !options.noProxy,
        ...(options.sshKey !== undefined ? { privateKey: options.sshKey } : {}),
        ...(passphrase !== undefined ? { passphrase } : {}),
        ...(options.knownHosts !== undefined ? { knownHosts: options.knownHosts } : {}),
        ...(options.sshFingerprint !== undefined ? { fingerprint: options.sshFingerprint } : {}),
      });
    }),
  ];
}

async function closeManager(manager: Manager): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    timer.unref();
  });
  // A plugin that cannot release its connections must not turn a finished run into a hang.
  await Promise.race([manager.close().catch(() => undefined), timeout]);
  clearTimeout(timer);
}

function secretsOf(options: CliOptions, tasks: readonly DownloadTask[]): Redactor {
  const redactor = new Redactor();
  const creds = options.credentials;
  if (creds) redactor.add('bearer' in creds ? creds.bearer : creds.password);
  if (options.proxy !== undefined) redactor.addUrl(options.proxy);
  // Proxy variables may carry a password too (ALL_PROXY=socks5://user:pass@host:1080).
  for (const [name, value] of Object.entries(process.env)) {
    if (/_proxy$/i.test(name) && value) redactor.addUrl(value);
  }
  if (options.sshPassphrase !== undefined) redactor.add(options.sshPassphrase);
  const envPassphrase = process.env['MULTIGET_SSH_PASSPHRASE'];
  if (envPassphrase) redactor.add(envPassphrase);
  addTaskSecrets(redactor, tasks);
  return redactor;
}

/** Adds the secrets of the tasks' URLs (their mirrors' too) and secret headers to `redactor`. */
function addTaskSecrets(redactor: Redactor, tasks: readonly DownloadTask[]): void {
  for (const task of tasks) {
    redactor.addUrl(task.url);
    for (const mirror of task.options.mirrors ?? []) redactor.addUrl(String(mirror));
    for (const [name, value] of Object.entries(task.options.headers ?? {})) {
      if (SECRET_HEADERS.has(name.toLowerCase())) {
        redactor.add(value);
        // `Bearer abc...`: the token alone may turn up in a message too.
        redactor.add(value.split(/\s+/).pop());
      }
    }
  }
}

function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}
