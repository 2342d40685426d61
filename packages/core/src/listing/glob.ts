/**
 * A small glob matcher for `--include` / `--exclude`: `*` (any run of characters but `/`), `**`
 * (any run, `/` included; `**` then `/` also matches no folder at all), `?` (one character but `/`),
 * `[abc]`, `[a-z]`, `[!abc]` (one character of the class; `^` works as `!`), `{a,b}` (either),
 * `\x` (x itself). Everything else matches itself, case-sensitively.
 *
 * A pattern without `/` is matched against the base name of an entry, anywhere in the tree
 * (`*.iso`); a pattern with `/` is matched against the whole path relative to the folder being
 * downloaded (`docs/*.pdf`; `**` then `/tmp/` then `**` for a tmp folder at any depth), as rsync and lftp do.
 */
export class GlobPattern {
  readonly #regexp: RegExp;
  readonly #anchored: boolean;

  /** The glob as given. */
  readonly pattern: string;

  /** @throws Error for an unclosed `[` or `{`, with the pattern in the message. */
  constructor(pattern: string) {
    this.pattern = pattern;
    this.#anchored = pattern.includes('/');
    this.#regexp = new RegExp(`^${translate(pattern.replace(/^\/+/, ''))}$`, 'u');
  }

  /** Whether `path` (relative, `/`-separated, no leading `/`) matches. */
  matches(path: string): boolean {
    const subject = this.#anchored ? path : path.slice(path.lastIndexOf('/') + 1);
    return this.#regexp.test(subject);
  }
}

function escapeChar(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

function translate(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) {
      out += escapeChar(glob[++i]!);
    } else if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          out += '(?:.*/)?';
        } else out += '.*';
      } else out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) throw new Error(`Unclosed [ in the pattern "${glob}"`);
      let body = glob.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      const cls = [...body].map((ch) => (ch === '-' ? '-' : escapeChar(ch))).join('');
      out += negate ? `(?!/)[^${cls}]` : `[${cls}]`;
      i = close;
    } else if (c === '{') {
      const close = glob.indexOf('}', i);
      if (close < 0) throw new Error(`Unclosed { in the pattern "${glob}"`);
      out += `(?:${glob.slice(i + 1, close).split(',').map(translate).join('|')})`;
      i = close;
    } else {
      out += escapeChar(c);
    }
  }
  return out;
}
