/** Where a download's bytes are written, at their offsets. */
export interface ByteSink {
  /** Writes `chunks` back to back starting at `position`. Resolves when the bytes are written. */
  write(chunks: readonly Uint8Array[], position: number): Promise<void>;
  /** Makes written bytes durable (fdatasync). */
  sync(): Promise<void>;
  /** Sets the length of the data (used when the size was unknown until the end). */
  truncate(length: number): Promise<void>;
  /** Releases the sink; safe to call twice. */
  close(): Promise<void>;
  /**
   * True when the sink keeps no reference to a chunk once `write` resolved (the bytes were copied
   * out, to a file). The engine then tells the source which chunks it wrote (`ByteSource.written`),
   * so that it can free their memory.
   */
  readonly copiesChunks?: boolean;
}
