/**
 * The `multiget` executable: `bin/multiget.js` checks the Node.js version and imports this.
 * @packageDocumentation
 */
import { main } from './main.js';
import { type InterruptSignal, reraise } from './SignalGuard.js';

// `multiget --json | head -1` closes stdout early: that is the reader's choice, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

const argv = process.argv.slice(2);
let interruptedBy: InterruptSignal | undefined;
// `multiget serve ...` hosts the download manager as a JSON-RPC service (see @multiget/server);
// loaded on demand so that plain downloads do not pay for the language-server library.
const run =
  argv[0] === 'serve'
    ? import('@multiget/server').then(async ({ main: serve }) => {
        const exit = await serve(argv.slice(1));
        // The service's transport keeps the event loop alive; its own result decides the exit.
        process.exit(exit);
      })
    : main(argv, undefined, (signal) => (interruptedBy = signal));

const code = await run.catch((err: unknown) => {
  // main() handles every failure it knows; this is a bug, so show the stack.
  process.stderr.write(`multiget: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)} [MG_ERR_INTERNAL]\n`);
  return 1;
});
process.exitCode = code ?? 0;
// Interrupted: cleanup is done (state saved, terminal restored); now die of the signal itself so
// that a calling shell script stops too.
if (interruptedBy !== undefined) reraise(interruptedBy);
// A socket or timer a plugin forgot must not keep a finished command alive; unref'd, this timer
// only fires when something else is still holding the event loop.
setTimeout(() => process.exit(code ?? 0), 1000).unref();
