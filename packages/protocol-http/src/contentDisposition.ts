/**
 * Content-Disposition parsing (RFC 6266) with RFC 8187 extended values. Only the file name is
 * extracted; it is returned as the server wrote it (after decoding) and must be sanitised by the
 * caller before it touches a file system.
 */

interface Parameter {
  name: string;
  value: string;
  /** True when the value was a quoted-string (so `filename*` in quotes is a lenient reading). */
  quoted: boolean;
}

/**
 * Extracts the file name from a Content-Disposition header value.
 *
 * `filename*` (RFC 8187 `charset'language'percent-encoded`, charset UTF-8 or ISO-8859-1) wins over
 * `filename`, as RFC 6266 §4.3 asks. `filename` may be a token or a quoted-string with backslash
 * escapes; a value that is really raw UTF-8 sent as header bytes is decoded as UTF-8. The first
 * occurrence of a parameter counts. Nothing is sanitised: `../../etc/passwd` comes back as is.
 *
 * @param value - The header value, as Node.js hands it over (each byte one char, ISO-8859-1).
 * @returns The decoded file name, or undefined when the header names none (or only an empty one).
 */
export function parseContentDisposition(value: string): string | undefined {
  const params = parseParameters(value);
  const extended = params.find((p) => p.name === 'filename*');
  if (extended !== undefined) {
    const decoded = decodeExtValue(extended.value);
    if (decoded !== undefined && decoded !== '') return decoded;
  }
  const plain = params.find((p) => p.name === 'filename');
  if (plain === undefined) return undefined;
  const name = plain.quoted ? plain.value : plain.value.trim();
  return name === '' ? undefined : latin1BytesAsUtf8(name);
}

/**
 * Splits `type; a=b; c="d;e"` into parameters. Lenient where servers are sloppy: a missing
 * disposition type, spaces around `=`, unquoted values with spaces, an unterminated quote (which
 * runs to the end of the value).
 */
function parseParameters(header: string): Parameter[] {
  const params: Parameter[] = [];
  const seen = new Set<string>();
  let i = 0;
  const n = header.length;
  while (i < n) {
    // One segment up to the next `;` outside quotes.
    const eq = findSegmentChar(header, i);
    if (eq.kind === 'end' || eq.kind === 'semicolon') {
      // A bare token: the disposition type, or junk. Either way not a parameter.
      i = eq.index + 1;
      continue;
    }
    const name = header.slice(i, eq.index).trim().toLowerCase();
    i = eq.index + 1;
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
    let valueText: string;
    let quoted = false;
    if (header[i] === '"') {
      quoted = true;
      const result = readQuoted(header, i + 1);
      valueText = result.value;
      i = result.next;
      // Skip anything between the closing quote and the next `;`.
      while (i < n && header[i] !== ';') i++;
    } else {
      const end = header.indexOf(';', i);
      const stop = end === -1 ? n : end;
      valueText = header.slice(i, stop).trim();
      i = stop;
    }
    i++; // past the `;`
    if (name !== '' && !seen.has(name)) {
      seen.add(name);
      params.push({ name, value: valueText, quoted });
    }
  }
  return params;
}

/** Finds the first `=` or `;` from `from`, whichever comes first, ignoring neither inside quotes. */
function findSegmentChar(
  header: string,
  from: number,
): { kind: 'equals' | 'semicolon' | 'end'; index: number } {
  for (let i = from; i < header.length; i++) {
    const c = header[i];
    if (c === '=') return { kind: 'equals', index: i };
    if (c === ';') return { kind: 'semicolon', index: i };
    if (c === '"') {
      // A quote before any `=` is not a parameter name; skip the quoted part so its `;` is ignored.
      i = readQuoted(header, i + 1).next - 1;
    }
  }
  return { kind: 'end', index: header.length };
}

/** Reads a quoted-string body starting after the opening quote; `next` points past the closing one. */
function readQuoted(header: string, from: number): { value: string; next: number } {
  let out = '';
  let i = from;
  while (i < header.length) {
    const c = header[i] as string;
    if (c === '\\' && i + 1 < header.length) {
      out += header[i + 1];
      i += 2;
      continue;
    }
    if (c === '"') return { value: out, next: i + 1 };
    out += c;
    i++;
  }
  return { value: out, next: i };
}

/** Decodes an RFC 8187 ext-value (`UTF-8'en'%E2%82%AC.txt`); undefined when malformed or unknown charset. */
function decodeExtValue(value: string): string | undefined {
  const first = value.indexOf("'");
  const second = first === -1 ? -1 : value.indexOf("'", first + 1);
  if (second === -1) return undefined;
  const charset = value.slice(0, first).trim().toLowerCase();
  const encoded = value.slice(second + 1);
  const bytes = percentDecode(encoded);
  if (bytes === undefined) return undefined;
  if (charset === 'utf-8' || charset === 'utf8') {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return undefined;
    }
  }
  if (charset === 'iso-8859-1' || charset === 'latin1') return Buffer.from(bytes).toString('latin1');
  return undefined;
}

/** Percent-decodes to bytes; characters above U+00FF or a broken escape make it undefined. */
function percentDecode(text: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25 /* % */) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (code <= 0xff) {
      bytes.push(code);
    } else {
      return undefined;
    }
  }
  return Uint8Array.from(bytes);
}

/**
 * Node.js reads header bytes as ISO-8859-1, but many servers put raw UTF-8 in `filename="..."`.
 * When the chars form valid UTF-8, that was almost certainly the intent (real ISO-8859-1 text
 * rarely is valid UTF-8), so decode it; otherwise keep the ISO-8859-1 reading.
 */
function latin1BytesAsUtf8(text: string): string {
  let high = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) return text;
    if (code >= 0x80) high = true;
  }
  if (!high) return text;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'latin1'));
  } catch {
    return text;
  }
}
