import { ErrorCodes, UsageError } from '@multiget/core';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Parses a curl-style header argument `Name: value` into `[name, value]`. The value is trimmed and
 * may be empty. Throws MG_ERR_INVALID_OPTION when there is no colon, the name is not an HTTP token,
 * or the value holds a line break or NUL (which would let one argument smuggle in another header).
 */
export function parseHeader(raw: string, where = '--header'): [string, string] {
  const colon = raw.indexOf(':');
  if (colon <= 0) {
    // Only the leading name: without its colon, a value (a token, a cookie) cannot be told apart.
    const name = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*/.exec(raw)![0];
    const shown = name.length < raw.length ? `${name}…` : name;
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid header "${shown}" in ${where}: expected "Name: value"`);
  }
  const name = raw.slice(0, colon).trim();
  const value = raw.slice(colon + 1).trim();
  if (!TOKEN.test(name)) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid header name "${name}" in ${where}`);
  }
  if (/[\r\n\0]/.test(value)) {
    throw new UsageError(ErrorCodes.INVALID_OPTION, `Invalid value of header "${name}" in ${where}: line breaks are not allowed`);
  }
  return [name, value];
}
