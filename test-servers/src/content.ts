/**
 * What every test server serves: real bytes, or a description of generated ones. Shared by the
 * HTTP, FTP and SFTP servers.
 */

/**
 * A file body that is never materialised: `size` deterministic pseudo-random bytes derived from
 * `seed`. Byte `i` is computable without the bytes before it, so sizes like `2 ** 50` can be
 * described and any slice served or compared. See {@link generateContent}.
 */
export interface GeneratedContent {
  /** Length in bytes (a safe integer, may be 0). */
  readonly size: number;
  /** Selects the byte sequence; two specs with the same seed agree on every byte they share. Default 0. */
  readonly seed?: number;
}

/** The body of a served file: real bytes, or a description of generated ones. */
export type FileContent = Buffer | GeneratedContent;
