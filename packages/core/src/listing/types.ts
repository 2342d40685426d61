/** What a folder entry is, as far as a download manager cares. */
export type RemoteEntryType = 'file' | 'directory' | 'symlink' | 'other';

/** One entry of a remote folder, as a protocol plugin's `list` reports it. */
export interface RemoteEntry {
  /** The name as the server gave it: one path component, not yet checked or sanitised. */
  name: string;
  /**
   * `file`: a regular file; `directory`; `symlink`: a symbolic link (never followed);
   * `other`: a device, FIFO, socket or anything the plugin cannot classify (never downloaded).
   */
  type: RemoteEntryType;
  /** Size in bytes, when the listing tells. */
  size?: number;
  /** Modification time in milliseconds since the epoch, when the listing tells. */
  mtime?: number;
}
