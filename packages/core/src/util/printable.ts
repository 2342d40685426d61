/**
 * Characters that act on a terminal or on how a line reads rather than showing as themselves: the
 * C0 controls but tab (escape sequences start with ESC; a line break starts a fake line of a log),
 * DEL, the C1 controls (U+009B is a one-character CSI for some terminals), the line and paragraph
 * separators, and the bidirectional formatting characters, which reorder what follows them (a name
 * or a message could then read as something else).
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const UNPRINTABLE_ALL = new RegExp(UNPRINTABLE.source, 'g');

/**
 * `text` safe to print: each control character (C0 but tab, DEL, C1), line or paragraph separator
 * and bidirectional formatting character becomes a visible escape (`\x1b`, a line break `\x0a`,
 * `\u202e`); everything else stays. Servers choose parts of many messages (an HTTP
 * reason phrase, an FTP reply, an ETag, a name in a listing); printed as they came, their escape
 * sequences would retitle or clear the user's terminal, or forge lines of a log. Messages of
 * `DownloadError`s and the engine's `warning` and `restart` events already pass through it; a front
 * end prints anything else a server chose through it too.
 */
export function printable(text: string): string {
  if (!UNPRINTABLE.test(text)) return text;
  return text.replace(UNPRINTABLE_ALL, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
