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

/**
 * A random UUID (version 4), as one flat string: an id to keep. (`crypto.randomUUID` builds its
 * result from 16 pieces, which V8 may keep as a tree of about 20 strings for as long as the id
 * lives: 16 MiB for the ids of a list of 10,000 URLs.)
 */
export function newId(): string {
  return flatString(randomUUID());
}
