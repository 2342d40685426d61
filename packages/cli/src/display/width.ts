/**
 * Terminal columns of text, counted the way terminals draw it: by grapheme cluster (what the user
 * sees as one character, e.g. a letter and its accents, or a family emoji joined by ZWJ), two
 * columns for East Asian wide and fullwidth characters and for emoji shown as pictures, none for
 * control characters and marks that combine with the previous character. String length (UTF-16
 * units) gets all of these wrong, and a live display whose line is wider than the terminal wraps,
 * so every redraw would leave a line behind.
 */

/**
 * Built on first use: constructing it loads ICU's break rules (about 30 ms), which a run that never
 * measures non-ASCII text (`-q`, plain ASCII names) should not pay at start-up.
 */
let segmenter: Intl.Segmenter | undefined;
const graphemes = (text: string): Intl.Segments => (segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(text);

/** Characters that take no column by themselves: marks, format characters (ZWJ, VS16), controls. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]+$/u;
/** A picture emoji: emoji presentation by default, or any pictograph followed by VS16 (U+FE0F). */
const EMOJI = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F|\p{Regional_Indicator}/u;

/**
 * East Asian Wide (W) and Fullwidth (F) ranges of Unicode's EastAsianWidth.txt, merged into the
 * blocks that hold them (Hangul Jamo, CJK radicals and symbols, kana, CJK ideographs and their
 * extensions, Yi, Hangul syllables, compatibility ideographs, vertical and small forms, fullwidth
 * forms). Emoji are handled by {@link EMOJI}.
 */
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x17000, 0x18cff],
  [0x1b000, 0x1b2ff],
  [0x1f200, 0x1f2ff],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

function isWide(codePoint: number): boolean {
  for (const [from, to] of WIDE) {
    if (codePoint < from) return false;
    if (codePoint <= to) return true;
  }
  return false;
}

/** Columns of one grapheme cluster: 0, 1 or 2. */
function clusterWidth(cluster: string): number {
  const first = cluster.codePointAt(0)!;
  // ASCII, the common case, without regular expressions.
  if (cluster.length === 1 && first >= 0x20 && first < 0x7f) return 1;
  if (ZERO_WIDTH.test(cluster)) return 0;
  if (EMOJI.test(cluster)) return 2;
  return isWide(first) ? 2 : 1;
}

/** Terminal columns `text` takes (no escape sequences in it). */
export function stringWidth(text: string): number {
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const { segment } of graphemes(text)) width += clusterWidth(segment);
  return width;
}

/**
 * `text` cut to at most `columns` terminal columns, never inside a grapheme cluster, with an
 * ellipsis (one column) when cut. A wide character that would straddle the limit is dropped.
 */
export function truncateToWidth(text: string, columns: number): string {
  if (columns <= 0) return '';
  if (stringWidth(text) <= columns) return text;
  const room = columns - 1;
  let out = '';
  let used = 0;
  for (const { segment } of graphemes(text)) {
    const w = clusterWidth(segment);
    if (used + w > room) break;
    out += segment;
    used += w;
  }
  return `${out}…`;
}

/** `text` padded with spaces on the right to `columns` terminal columns (unchanged when wider). */
export function padEndToWidth(text: string, columns: number): string {
  return text + ' '.repeat(Math.max(0, columns - stringWidth(text)));
}
