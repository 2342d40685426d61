/**
 * Reads the size of a SIZE reply (RFC 3659 §4: `213 <decimal>`) in bytes. Returns undefined for
 * anything else, and for a number beyond `Number.MAX_SAFE_INTEGER`, which a double would round to
 * another size (no file that large can be downloaded anyway).
 *
 * @param reply - The whole reply line, code included.
 */
export function parseSizeReply(reply: string): number | undefined {
  const match = /^213 (\d+)\s*$/.exec(reply.trim());
  if (match?.[1] === undefined) return undefined;
  const size = Number(match[1]);
  return Number.isSafeInteger(size) ? size : undefined;
}
