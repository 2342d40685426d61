/**
 * The file name a user types for "Save as…" in the Download URL box: one path component, checked
 * here before the service sees it (the service also refuses a path that escapes the folder).
 */

/** Suffixes of the engine's sidecar files; a target named like one would collide with its own state. */
const SIDECAR_SUFFIXES = ['.mgpart', '.mgstate', '.mglock'] as const;

/** Longest name in UTF-8 bytes that common file systems (ext4, APFS, NTFS) all take. */
export const MAX_FILE_NAME_BYTES = 255;

// Characters Windows refuses in names; refused everywhere so a name works on every host.
const WINDOWS_RESERVED_CHARS = /[<>:"|?*]/;
const WINDOWS_RESERVED_NAMES = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/** Why `text` is not a safe file name, or `undefined` when it is. Surrounding spaces are trimmed. */
export function validateFileName(text: string): string | undefined {
  const name = text.trim();
  if (name === '') return 'Enter a file name.';
  if (name === '.' || name === '..') return `"${name}" is not a file name.`;
  if (/[/\\]/.test(name)) return 'A file name, not a path: no / or \\.';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'The name contains a control character.';
  if (WINDOWS_RESERVED_CHARS.test(name)) return 'The name contains one of < > : " | ? * (not allowed on every system).';
  if (WINDOWS_RESERVED_NAMES.test(name)) return `"${name}" is a reserved device name on Windows.`;
  if (/[. ]$/.test(name)) return 'The name cannot end with a dot or a space.';
  if (Buffer.byteLength(name, 'utf8') > MAX_FILE_NAME_BYTES) return `The name is longer than ${MAX_FILE_NAME_BYTES} bytes.`;
  const lower = name.toLowerCase();
  if (SIDECAR_SUFFIXES.some((suffix) => lower.endsWith(suffix))) return 'Names ending in .mgpart, .mgstate or .mglock are Multiget\'s own partial files.';
  return undefined;
}

/** The name a download of `url` gets by default (its last path segment, decoded), for "Save as…"'s first value. */
export function suggestedFileName(url: string): string {
  try {
    const parsed = new URL(url.trim());
    const segment = parsed.pathname.split('/').filter((part) => part !== '').pop();
    if (segment === undefined) return '';
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      decoded = segment;
    }
    return validateFileName(decoded) === undefined ? decoded : '';
  } catch {
    return '';
  }
}
