import { defuseSidecarName } from '../storage/sidecars.js';

/**
 * Reduces a name suggested by a server or a URL to a safe base name: a single path component with no
 * directory parts, no control characters, no characters that are reserved on common file systems, no
 * leading dots (a server must not plant hidden files such as `.bashrc`), no trailing dots or spaces
 * (Windows drops them), no reserved Windows device name (`CON`, `NUL`, `COM1`, `LPT¹`, `CONIN$`, ...,
 * with or without an extension, any case: prefixed with `_`), no name of a Multiget sidecar file
 * (`f.bin.mgstate` becomes `f.bin.mgstate_`, so a server cannot plant the state of a later download),
 * at most 200 bytes of UTF-8. Returns `fallback` when nothing usable remains.
 */
export function sanitizeFileName(name: string | undefined, fallback = 'download'): string {
  if (!name) return fallback;
  // Only the last path component counts, whichever separator the server used.
  let base = name.split(/[/\\]/).filter((p) => p.length > 0).pop() ?? '';
  base = stripEnds(
    base
      // A lone surrogate would reach the disk as U+FFFD anyway; say so up front.
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
      .normalize('NFC')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
      .replace(/[<>:"|?*]/g, '_')
      .replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ''), // bidi overrides disguise extensions
  );
  // A device or sidecar name gets a character more; when that passes the limit, cut one byte more and
  // look again (cutting may expose a dot or a space, or end a device or sidecar name). The result is
  // a fixed point: it is within the limit and needs no mark, so sanitising it again keeps it.
  let out = base;
  for (let limit = MAX_NAME_BYTES; limit > 0; limit--) {
    out = markReserved(stripEnds(truncateUtf8(base, limit)));
    if (Buffer.byteLength(out) <= MAX_NAME_BYTES) break;
  }
  return out.length > 0 ? out : fallback;
}

/** The longest name sanitizeFileName returns, in bytes of UTF-8 (most file systems allow 255). */
const MAX_NAME_BYTES = 200;

/** `_CON.txt` for a device name, `f.bin.mgstate_` for a sidecar name; any other name as it is. */
function markReserved(name: string): string {
  return defuseSidecarName(isWindowsDeviceName(name) ? `_${name}` : name);
}

/**
 * True for the names Windows reserves for devices, whatever follows a dot: CON, PRN, AUX, NUL,
 * COM0-9, LPT0-9 (also with the superscript digits ¹ ² ³ that Windows treats as digits there),
 * CONIN$ and CONOUT$, in any case, with spaces before the extension ignored as Windows does.
 */
export function isWindowsDeviceName(name: string): boolean {
  return /^(con|prn|aux|nul|(com|lpt)[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$) *(\..*)?$/i.test(name);
}

/** Trims white space, drops leading dots (hidden files) and trailing dots and spaces (Windows drops them). */
function stripEnds(name: string): string {
  let out = name;
  for (let before = ''; before !== out; ) {
    before = out;
    out = out.trim().replace(/^\.+/, '').replace(/[. ]+$/, '');
  }
  return out;
}

/** The last non-empty path segment of a URL, percent-decoded (not sanitised). */
export function fileNameFromUrl(url: URL): string | undefined {
  const segment = url.pathname.split('/').filter((p) => p.length > 0).pop();
  if (!segment) return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function truncateUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value) <= maxBytes) return value;
  const dot = value.lastIndexOf('.');
  const ext = dot > 0 && value.length - dot <= 16 ? value.slice(dot) : '';
  let stem = value.slice(0, value.length - ext.length);
  while (Buffer.byteLength(stem + ext) > maxBytes) stem = [...stem].slice(0, -1).join('');
  return stem + ext;
}
