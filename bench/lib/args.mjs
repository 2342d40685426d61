// Command-line options of the benchmark. Plain node:util parseArgs; no dependency.
import { parseArgs } from 'node:util';

export const PROFILE_NAMES = ['unthrottled', 'throttled', 'drops', 'no-ranges', 'cuts-4m', 'cap-503', 'slow-one', 'mirrors', 'many', 'ftp', 'sftp', 'sftp-latency'];

/** The tools --tools may name (a profile may run fewer, see bench/README.md). */
export const TOOL_NAMES = ['multiget', 'aria2c', 'axel', 'curl'];

export const USAGE = `Usage: npm run bench -- [options]

  --profile NAME   one of ${PROFILE_NAMES.join(', ')};
                   repeat or comma-separate for several (default: all)
  --runs N         timed runs of every tool (default 3); tools are interleaved within a run, each run starting three tools further, every other run in reverse order
  --size SIZE      file size for every selected profile instead of its default
                   (bytes, or with a K/M/G suffix meaning KiB/MiB/GiB, e.g. 64M)
  --tools LIST     comma-separated subset of ${TOOL_NAMES.join(',')} (default: all)
  --no-install     never run apt-get, even as root (missing peers are skipped)
  --baseline DIR   also run the multiget of another built checkout (DIR/packages/cli/bin/multiget.js)
                   as tool "baseline", interleaved with the others: before/after in one run
  -h, --help       print this help
`;

/** Parses `64M`, `1G`, `1048576` into bytes (binary multiples). */
export function parseSize(text) {
  const match = /^(\d+(?:\.\d+)?)\s*([KMG]i?B?)?$/i.exec(String(text).trim());
  if (!match) throw new Error(`invalid size: ${text} (use bytes or a K/M/G suffix)`);
  const unit = (match[2] ?? '').charAt(0).toUpperCase();
  const factor = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[unit];
  const bytes = Math.round(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new Error(`invalid size: ${text}`);
  return bytes;
}

/** The parsed options, validated; throws an Error with a readable message on bad input. */
export function readOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      profile: { type: 'string', multiple: true },
      runs: { type: 'string' },
      size: { type: 'string' },
      tools: { type: 'string' },
      'no-install': { type: 'boolean' },
      baseline: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  const profiles = (values.profile ?? PROFILE_NAMES)
    .flatMap((p) => p.split(','))
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of profiles) {
    if (!PROFILE_NAMES.includes(p)) throw new Error(`unknown profile: ${p} (one of ${PROFILE_NAMES.join(', ')})`);
  }
  const runs = values.runs === undefined ? 3 : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) throw new Error(`--runs must be an integer from 1 to 100, got ${values.runs}`);
  const allTools = TOOL_NAMES;
  const tools = values.tools === undefined ? allTools : values.tools.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of tools) {
    if (!allTools.includes(t)) throw new Error(`unknown tool: ${t} (one of ${allTools.join(', ')})`);
  }
  return {
    help: values.help === true,
    profiles: [...new Set(profiles)],
    runs,
    size: values.size === undefined ? undefined : parseSize(values.size),
    tools,
    install: values['no-install'] !== true,
    baseline: values.baseline,
  };
}
