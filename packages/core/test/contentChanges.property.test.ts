// The content store applies a write's batch of changes in one pass (applying them one at a time
// copied every record per change: a list of 10,000 files allocated about 400 MB doing it). The pass
// must give exactly what one change at a time gives: a file's last change decides, new records
// first and newest first, older records after in their order, duplicates of untouched files kept.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyChanges, type RecordChange } from '../src/manager/content/ContentStore.js';
import type { ContentRecord } from '../src/manager/store/ManagerStore.js';

const FILES = ['/d/a', '/d/b', '/d/c', '/d/e'];

function record(file: string, n: number): ContentRecord {
  return { url: `http://h/${n}`, file, size: n, validators: {}, digest: { algorithm: 'sha256', hex: String(n) }, recordedAt: String(n) };
}

/** One change at a time, as the store did before. */
function oneByOne(records: readonly ContentRecord[], batch: readonly RecordChange[], max: number): ContentRecord[] {
  let out = [...records];
  for (const c of batch) {
    out = out.filter((r) => r.file !== c.file);
    if (c.record) out = [c.record, ...out];
  }
  return out.slice(0, max);
}

const records = fc.array(fc.tuple(fc.constantFrom(...FILES), fc.nat(1000)).map(([f, n]) => record(f, n)), { maxLength: 8 });
const changes = fc.array(
  fc.tuple(fc.constantFrom(...FILES), fc.option(fc.nat(1000), { nil: undefined })).map(([file, n]): RecordChange => (n === undefined ? { file } : { file, record: record(file, n) })),
  { maxLength: 10 },
);

describe('applyChanges', () => {
  it('gives what applying the changes one at a time gives', () => {
    fc.assert(
      fc.property(records, changes, (before, batch) => {
        expect(applyChanges(before, batch)).toEqual(oneByOne(before, batch, 5000));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps at most 5,000 records, the newest', () => {
    const old = Array.from({ length: 5000 }, (_, i) => record(`/old/${i}`, i));
    const batch = Array.from({ length: 3 }, (_, i): RecordChange => ({ file: `/new/${i}`, record: record(`/new/${i}`, i) }));
    const after = applyChanges(old, batch);
    expect(after).toHaveLength(5000);
    expect(after.slice(0, 4).map((r) => r.file)).toEqual(['/new/2', '/new/1', '/new/0', '/old/0']);
    expect(after.at(-1)!.file).toBe('/old/4996');
  });
});
