import type { ContentRecord } from '../store/ManagerStore.js';

/** Records kept: the oldest go first. */
export const MAX_RECORDS = 5000;

/** A change of the records: `record` becomes the record of `file` (replacing any), or, without one, `file` is forgotten. */
export interface RecordChange {
  readonly file: string;
  readonly record?: ContentRecord;
}

/** Where a {@link ContentStore} keeps its records: a document (`ContentPersistence`), or `content.jsonl`. */
export interface RecordSource {
  /** Records whose `url` is `key` (a `contentKey`), newest first. */
  byUrl(key: string): Promise<ContentRecord[]>;
  /** Records whose digest is `algorithm`/`hex`, newest first. */
  byDigest(algorithm: string, hex: string): Promise<ContentRecord[]>;
  /** Applies `batch`, in order, and keeps the result (merged with what another process wrote). */
  apply(batch: readonly RecordChange[]): Promise<void>;
}

/**
 * The records after the changes of `batch` (in the order made), at most MAX_RECORDS of them, in
 * one pass however many changes the batch holds: a file's last change decides, and new records
 * come first, the newest first, as they would one change at a time. (Applying the changes one at a
 * time copied every record per change: a list of 10,000 files allocated about 400 MB doing it.)
 */
export function applyChanges(records: readonly ContentRecord[], batch: readonly RecordChange[]): ContentRecord[] {
  const decided = new Set<string>();
  const result: ContentRecord[] = [];
  for (let i = batch.length - 1; i >= 0; i--) {
    const { file, record } = batch[i]!;
    if (decided.has(file)) continue;
    decided.add(file);
    if (record !== undefined && result.length < MAX_RECORDS) result.push(record);
  }
  for (const r of records) {
    if (result.length >= MAX_RECORDS) break;
    if (!decided.has(r.file)) result.push(r);
  }
  return result;
}

/** True for a well-formed record (what a file may hold is checked before it is used). */
export function isRecord(v: unknown): v is ContentRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const d = r['digest'] as Record<string, unknown> | undefined;
  return (
    typeof r['url'] === 'string' &&
    typeof r['file'] === 'string' &&
    typeof r['size'] === 'number' &&
    typeof r['validators'] === 'object' &&
    r['validators'] !== null &&
    typeof d === 'object' &&
    d !== null &&
    typeof d['algorithm'] === 'string' &&
    typeof d['hex'] === 'string' &&
    (d['blockSize'] === undefined || (typeof d['blockSize'] === 'number' && Number.isSafeInteger(d['blockSize']) && d['blockSize'] > 0))
  );
}

/** `records` by their `url`. */
export function indexByUrl(records: readonly ContentRecord[]): Map<string, ContentRecord[]> {
  const index = new Map<string, ContentRecord[]>();
  for (const r of records) {
    const same = index.get(r.url);
    if (same) same.push(r);
    else index.set(r.url, [r]);
  }
  return index;
}
