/**
 * Reduces a name suggested by a server or a URL to a safe base name: no directory parts, no control
 * characters, no characters that are reserved on common file systems, no leading dots (a server must
 * not plant hidden files such as `.bashrc`), no reserved Windows device names, at most 200 bytes.
 * Returns `fallback` when nothing usable remains.
 */
export function sanitizeFileName(name: string | undefined, fallback = 'download'): string {
  if (!name) return fallback;
  // Only the last path component counts, whichever separator the server used.
  let base = name.split(/[/\\]/).filter((p) => p.length > 0).pop() ?? '';
  base = base
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .replace(/[<>:"|?*]/g, '_')
    .replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '') // bidi overrides disguise extensions
    .trim()
    .replace(/^\.+/, '')
    .replace(/[. ]+$/, '');
  if (/^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(base)) base = `_${base}`;
  base = truncateUtf8(base, 200);
  return base.length > 0 ? base : fallback;
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
