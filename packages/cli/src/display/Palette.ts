import { nodeUtil } from '../nodeUtil.js';
import type { TextOutput } from './Reporter.js';

const { styleText } = nodeUtil;

type Style = Parameters<typeof styleText>[0];

const plain = (text: string): string => text;
// Whether to colour is decided once, in Palette.wanted; here the styles are applied as asked.
const paint = (style: Style) => (text: string) => styleText(style, text, { validateStream: false });

/**
 * The colours of the human output, through Node's own `util.styleText`. Disabled, every method
 * returns its text unchanged, so callers never branch on colour support themselves.
 */
export class Palette {
  readonly green: (text: string) => string;
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly cyan: (text: string) => string;
  /** Magenta text (a connection's colour in the segment map). */
  readonly magenta: (text: string) => string;
  /** Blue text (a connection's colour in the segment map). */
  readonly blue: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly bold: (text: string) => string;

  constructor(readonly enabled: boolean) {
    this.green = enabled ? paint('green') : plain;
    this.red = enabled ? paint('red') : plain;
    this.yellow = enabled ? paint('yellow') : plain;
    this.cyan = enabled ? paint('cyan') : plain;
    this.magenta = enabled ? paint('magenta') : plain;
    this.blue = enabled ? paint('blue') : plain;
    this.dim = enabled ? paint('dim') : plain;
    this.bold = enabled ? paint('bold') : plain;
  }

  /**
   * Whether to colour what goes to `stream`: never with `--no-color` (`flag` false), otherwise as
   * Node decides for `util.styleText` on that stream: on a terminal that has colours, not with
   * `NO_COLOR` (https://no-color.org), `NODE_DISABLE_COLORS` or `TERM=dumb`, and always with
   * `FORCE_COLOR` (1-3; 0 turns colours off).
   */
  static wanted(flag: boolean, stream: TextOutput): boolean {
    if (!flag) return false;
    try {
      return styleText('red', 'x', { stream: stream as NodeJS.WritableStream }) !== 'x';
    } catch {
      // Not a stream Node knows (a test double): no colours.
      return false;
    }
  }
}
