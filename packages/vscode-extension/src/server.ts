/**
 * Entry of the bundled service (dist/server.mjs): `@multiget/server`'s command line plus the options
 * only the extension passes. The .vsix carries this one file instead of node_modules.
 *
 * Extra arguments, taken off before the service's own parser sees them (it refuses unknown ones):
 * - `--insecure`: skip TLS certificate checks (VS Code's `http.proxyStrictSSL: false` with a proxy).
 *
 * Proxies arrive as HTTP_PROXY / HTTPS_PROXY / NO_PROXY in the environment, which the service's
 * HTTP plugin honours by itself.
 */
import v8 from 'node:v8';
import { downloadV8Flags } from '@multiget/core/v8-tuning';
import { ServerExitCode, main, parseServerArgs, runServer } from '@multiget/server';

const EXTENSION_FLAGS = new Set(['--insecure']);

function isCodedError(err: unknown): err is Error & { code: string } {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as unknown as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('MG_ERR_');
}

async function start(argv: readonly string[]): Promise<number> {
  const insecure = argv.includes('--insecure');
  const rest = argv.filter((a) => !EXTENSION_FLAGS.has(a));
  // Without our own flags the service's own main does everything (help, version, exit codes).
  if (!insecure) return await main(rest);
  let parsed: ReturnType<typeof parseServerArgs>;
  try {
    parsed = parseServerArgs(rest);
  } catch (err) {
    process.stderr.write(`multiget-server: ${err instanceof Error ? err.message : String(err)}\n`);
    return ServerExitCode.USAGE;
  }
  if (parsed.kind !== 'serve') return await main(rest);
  try {
    return await runServer({ ...parsed.options, http: { insecure: true } });
  } catch (err) {
    // The same report and exit codes as the service's main, so the extension reads both alike.
    if (isCodedError(err)) {
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

// The V8 flags of every process that runs downloads (core's src/v8Tuning.ts has their reasons), as
// `multiget` and `multiget-server` set them: before the first download, after the bundle's modules
// were evaluated (a long-running service does not mind that Node's code caches no longer match).
for (const flag of downloadV8Flags()) v8.setFlagsFromString(flag);

start(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`multiget-server: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
