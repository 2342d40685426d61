import { randomUUID } from 'node:crypto';

/**
 * `s` as one flat string. V8 keeps a string made with `+` or a template literal as a tree of its
 * pieces (a "cons string", 32 bytes a node) until something reads it as a whole, and Node's
 * `randomUUID` and `path.resolve` build theirs that way. Strings that live as long as a queue entry
 * (its id, folder and key, a CLI task's id) were such trees: a list of 10,000 URLs held 510,000 of
 * them, 16 MiB. A copy through a Buffer is flat (Latin-1 when every code unit fits, else UTF-16, so
 * the copy is exact either way).
 */
export function flatString(s: string): string {
  // Any code unit above 0xff (a surrogate too: no `u` flag) needs UTF-16.
  const encoding = /[\u0100-\uffff]/.test(s) ? 'utf16le' : 'latin1';
  return Buffer.from(s, encoding).toString(encoding);
}

/** A random UUID (version 4) as a flat string (see {@link flatString}): an id to keep. */
export function newId(): string {
  return flatString(randomUUID());
}
