import { ErrorCodes, FileSystemError, RemoteChangedError } from '../errors.js';
import type { HookHost, Plugin } from '../engine/hooks.js';
import type { Job } from '../engine/Job.js';
import { fileNameFromUrl, sanitizeFileName } from '../util/fileName.js';
import type { ByteSink } from './sink.js';
import type { ByteReader, Storage, StorageContext } from './Storage.js';
import type { SavedState } from './validateState.js';

const PLUGIN_NAME = 'MemoryStorage';

/** What a {@link MemoryStorage} holds for one name. */
interface Slot {
  data: Uint8Array;
  length: number;
  state: SavedState | undefined;
}

/**
 * A storage that keeps every download in memory and never touches a file system: finished files
 * are in {@link files}, partial data and its state stay in memory between runs of the same engine
 * (pause, resume), and target names are the caller's `output` or the name the server suggests, as
 * given. It taps `openStorage` before the built-in {@link PartialFile}, so it replaces it: for tests,
 * and as a small example of a storage.
 */
export class MemoryStorage implements Plugin {
  readonly name = PLUGIN_NAME;
  /** Finished files by target name. */
  readonly files = new Map<string, Uint8Array>();
  readonly #partial = new Map<string, Slot>();

  apply(engine: HookHost): void {
    engine.hooks.openStorage.tapPromise({ name: PLUGIN_NAME, stage: -10 }, async (job, context) => this.#open(job, context));
  }

  async #open(job: Job, context: StorageContext): Promise<Storage> {
    const target =
      job.options.output ?? sanitizeFileName(job.remote?.fileName ?? fileNameFromUrl(job.remote!.url) ?? fileNameFromUrl(job.url));
    if (!context.claim(target)) throw new FileSystemError(ErrorCodes.FILE_EXISTS, `Another download is already writing ${target}`);
    if (this.files.has(target) && job.options.existing !== 'overwrite') {
      context.unclaim(target);
      throw new FileSystemError(ErrorCodes.FILE_EXISTS, `${target} already exists; not overwriting it`);
    }
    const partial = this.#partial;
    const files = this.files;
    let slot = partial.get(target);
    const storage: Storage = {
      target,
      saved: slot?.state,
      async open(resume: boolean, size: number | undefined): Promise<ByteSink> {
        if (!resume || !slot) {
          slot = { data: new Uint8Array(size ?? 0), length: size ?? 0, state: undefined };
          partial.set(target, slot);
        }
        const s = slot;
        return {
          async write(chunks, position) {
            let at = position;
            for (const c of chunks) {
              if (at + c.byteLength > s.data.byteLength) {
                const grown = new Uint8Array(Math.max(at + c.byteLength, s.data.byteLength * 2));
                grown.set(s.data.subarray(0, s.length));
                s.data = grown;
              }
              s.data.set(c, at);
              at += c.byteLength;
              s.length = Math.max(s.length, at);
            }
          },
          async sync() {},
          async truncate(length) {
            if (length > s.data.byteLength) {
              const grown = new Uint8Array(length);
              grown.set(s.data.subarray(0, s.length));
              s.data = grown;
            }
            s.length = length;
          },
          async close() {},
        };
      },
      async checkLength(bytes) {
        if (!slot || slot.length < bytes) throw new RemoteChangedError('The partial data is missing or shorter than its state says');
      },
      async openReader(): Promise<ByteReader> {
        const s = slot;
        if (!s) throw Object.assign(new Error(`no partial data of ${target}`), { code: 'ENOENT' });
        return {
          async read(buffer, offset, length, position) {
            const n = Math.max(0, Math.min(length, s.length - position));
            buffer.set(s.data.subarray(position, position + n), offset);
            return { bytesRead: n };
          },
          async close() {},
        };
      },
      async checkpoint(state) {
        if (slot) slot.state = structuredClone(state);
      },
      async forget() {
        if (slot) slot.state = undefined;
      },
      async flush(size) {
        if (slot) slot.length = size;
      },
      async commit() {
        const s = slot ?? { data: new Uint8Array(0), length: 0 };
        files.set(target, s.data.slice(0, s.length));
        partial.delete(target);
      },
      async remove() {
        partial.delete(target);
        slot = undefined;
      },
      async release() {
        context.unclaim(target);
      },
    };
    return storage;
  }
}
