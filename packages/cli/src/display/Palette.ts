const wrap = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const plain = (text: string): string => text;

/**
 * The colours of the human output. Disabled, every method returns its text unchanged, so callers
 * never branch on colour support themselves.
 */
export class Palette {
  readonly green: (text: string) => string;
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly cyan: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly bold: (text: string) => string;

  constructor(readonly enabled: boolean) {
    this.green = enabled ? wrap(32, 39) : plain;
    this.red = enabled ? wrap(31, 39) : plain;
    this.yellow = enabled ? wrap(33, 39) : plain;
    this.cyan = enabled ? wrap(36, 39) : plain;
    this.dim = enabled ? wrap(2, 22) : plain;
    this.bold = enabled ? wrap(1, 22) : plain;
  }

  /**
   * Whether to colour: only on a terminal, and neither `--no-color` nor a non-empty NO_COLOR
   * (https://no-color.org) says otherwise.
   */
  static wanted(flag: boolean, env: NodeJS.ProcessEnv, isTTY: boolean | undefined): boolean {
    return flag && isTTY === true && !env['NO_COLOR'];
  }
}
