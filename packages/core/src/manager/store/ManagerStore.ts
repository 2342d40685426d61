import type { AddOptions } from '../../options/types.js';
import type { Validators } from '../../types.js';
import type { EntryState, HistoryEntry, ManagerSettings, PauseReason } from '../types.js';

/** One download of the queue as the store keeps it: never a secret (credentials and secret headers stay in memory). */
export interface PersistedEntry {
  /** The download's id. */
  id: string;
  /** The URL without credentials. */
  url: string;
  /** Its options, without credentials and secret headers. */
  options: AddOptions;
  /** Where it stood. */
  state: EntryState;
  /** Higher runs first. */
  priority: number;
  /** Order of addition (ties of priority). */
  seq: number;
  /** The target, once known. */
  file?: string;
  /** A start of the download opened `file` as its target (see `Entry.targetChosen`). */
  targetChosen?: true;
  /** Bytes on disk when it was last written. */
  bytes: number;
  /** Size, when known. */
  total?: number;
  /** Why it failed. */
  error?: {
    /** The `MG_ERR_*` code. */
    code: string;
    /** The text for the user. */
    message: string;
  };
  /** When it was added (ISO 8601). */
  addedAt: string;
  /** It was given secrets (credentials, secret headers, userinfo), which are not written here. */
  secret?: true;
  /** Why the manager paused it (`linkExpired`), when it did. */
  reason?: PauseReason;
  /** Earlier URLs of the download, without credentials (see `Manager.updateUrl`). */
  previousUrls?: string[];
}

/** The queue and the settings. */
export interface QueueDocument {
  /** Format version. */
  version: 1;
  /** The settings at the time of writing. */
  settings: ManagerSettings;
  /** Every download of the list, in queue order. */
  entries: PersistedEntry[];
}

/** The history, newest first. */
export interface HistoryDocument {
  /** Format version. */
  version: 1;
  /** Finished, failed and cancelled downloads, newest first. */
  entries: HistoryEntry[];
}

/** A finished file the content store knows: enough to find it again and to prove it unchanged. */
export interface ContentRecord {
  /**
   * The URL it came from without user info, fragment and signature query parameters (S3, Google
   * Cloud Storage, Azure SAS, CloudFront): never a secret, and the same for two signings of one link.
   */
  url: string;
  /** The server's validators when it was downloaded (ETag, Last-Modified, modification time, size). */
  validators: Validators;
  /** Size in bytes. */
  size: number;
  /**
   * The verified checksum; else `crc32-blocks`, built from the CRC-32 of each block the engine kept
   * while the file downloaded (no second read of the file); else, when those did not cover the file
   * (a stream of unknown length), a sha256 computed when it completed. Stores written before
   * `crc32-blocks` hold sha256 digests of unverified files: they keep working.
   */
  digest: {
    /** The hash function (`sha256`, ...), or `crc32-blocks`. */
    algorithm: string;
    /** Lower-case hex; for `crc32-blocks`, the SHA-256 of the blocks' CRC-32s (8 hex digits each, in order, concatenated). */
    hex: string;
    /** `crc32-blocks` only: the block size in bytes (block i covers [i × blockSize, (i + 1) × blockSize)). */
    blockSize?: number;
  };
  /** Absolute path of the file. */
  file: string;
  /** When it was recorded (ISO 8601). */
  recordedAt: string;
}

/** The content store: finished files, newest first. */
export interface ContentDocument {
  /** Format version. */
  version: 1;
  /** Newest first; capped. */
  entries: ContentRecord[];
}

/** The documents a {@link ManagerStore} keeps, by name. */
export interface ManagerDocuments {
  /** The queue and settings. */
  queue: QueueDocument;
  /** The history. */
  history: HistoryDocument;
  /** The content store (finished files a new download may be copied from). */
  content: ContentDocument;
}

/**
 * Where a manager keeps what survives a restart: a few named JSON-shaped documents. The default is
 * {@link JsonFileStore} (files in a state directory, with a lock); a program passes its own as
 * `ManagerOptions.store` (a database, memory in a test).
 *
 * `read` answers undefined for a document that is missing or unreadable (the manager starts empty);
 * `write` replaces a document whole and should be atomic. The manager never writes secrets into a
 * document and serialises its writes (one `write` at a time).
 */
export interface ManagerStore {
  /** Prepares the store (create, lock). Throws MG_ERR_STATE_LOCKED when another process holds it. */
  open(): Promise<void>;
  /** Releases the store. */
  close(): Promise<void>;
  /** A document, or undefined when there is none. */
  read<K extends keyof ManagerDocuments>(name: K): Promise<ManagerDocuments[K] | undefined>;
  /** Replaces a document. */
  write<K extends keyof ManagerDocuments>(name: K, document: ManagerDocuments[K]): Promise<void>;
}
