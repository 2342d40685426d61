import type { OutputMode } from '../args/parseArgs.js';
import { JsonDisplay } from './JsonDisplay.js';
import { PlainDisplay } from './PlainDisplay.js';
import { QuietDisplay } from './QuietDisplay.js';
import type { Reporter, ReporterContext } from './Reporter.js';
import { TtyDisplay } from './TtyDisplay.js';

/**
 * Picks the display: `--json` and `-q` as asked; otherwise the live display when stderr (where
 * human output goes) is a terminal, plain lines when it is not or when it is a dumb one
 * (`TERM=dumb`: no cursor movement).
 */
export function createReporter(mode: OutputMode, ctx: ReporterContext): Reporter {
  if (mode === 'json') return new JsonDisplay(ctx);
  if (mode === 'quiet') return new QuietDisplay(ctx);
  return ctx.stderr.isTTY && !ctx.dumbTerminal ? new TtyDisplay(ctx) : new PlainDisplay(ctx);
}
