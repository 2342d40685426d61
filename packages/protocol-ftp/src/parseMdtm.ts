/**
 * Reads the time of an MDTM reply (RFC 3659 §2.3: `213 YYYYMMDDHHMMSS[.sss]`, always UTC) as
 * milliseconds since the epoch. Returns undefined for anything else, including impossible dates
 * (a server that answers `213 19700230...` gives no usable validator).
 *
 * @param reply - The whole reply line, code included, or only its time.
 */
export function parseMdtm(reply: string): number | undefined {
  const match = /^(?:213[ -])?\s*(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?\s*$/.exec(reply.trim());
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const fraction = match[7] === undefined ? 0 : Math.floor(Number(`0.${match[7]}`) * 1000);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, fraction);
  const check = new Date(ms);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  return ms;
}
