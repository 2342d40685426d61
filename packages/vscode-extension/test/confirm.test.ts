import { describe, expect, it } from 'vitest';
import type { DownloadInfo } from '@multiget/server/protocol';
import { CANCEL_CONFIRM_BYTES, cancelQuestion, removeQuestion } from '../src/model/confirm';

const MiB = 1024 * 1024;
const facts = (state: DownloadInfo['state'], bytes: number, file: string | null = '/d/big.iso') => ({ state, bytes, file });

describe('removeQuestion', () => {
  it('asks about partial data for every unfinished or failed download with data on disk', () => {
    for (const state of ['queued', 'probing', 'downloading', 'verifying', 'paused', 'failed'] as const) {
      const q = removeQuestion(facts(state, 3 * MiB), 'big.iso');
      expect(q.kind, state).toBe('partialData');
      if (q.kind === 'partialData') {
        expect(q.message).toBe('Remove big.iso from the list?');
        expect(q.detail).toMatch(/^3\.0 MiB of partial data is on disk next to \/d\/big\.iso\. Delete it too/);
      }
    }
  });
  it('asks when the target is known even before the first byte (the sidecars exist)', () => {
    const q = removeQuestion(facts('downloading', 0), 'x');
    expect(q.kind).toBe('partialData');
    if (q.kind === 'partialData') expect(q.detail).toMatch(/^Its partial data is on disk next to \/d\/big\.iso\. Delete it too/);
  });
  it('does not ask for a completed or cancelled download, or one that never started', () => {
    expect(removeQuestion(facts('completed', 10 * MiB), 'x').kind).toBe('none');
    expect(removeQuestion(facts('canceled', 10 * MiB), 'x').kind).toBe('none');
    expect(removeQuestion(facts('queued', 0, null), 'x').kind).toBe('none');
  });
});

describe('cancelQuestion', () => {
  it(`asks only above ${CANCEL_CONFIRM_BYTES / MiB} MiB`, () => {
    expect(cancelQuestion(facts('downloading', CANCEL_CONFIRM_BYTES), 'a.bin')).toBeUndefined();
    expect(cancelQuestion(facts('downloading', CANCEL_CONFIRM_BYTES + 1), 'a.bin')).toBe('Cancel a.bin? The 8.0 MiB downloaded so far will be deleted.');
    expect(cancelQuestion(facts('paused', 100 * MiB), 'a.bin')).toMatch(/100\.0 MiB downloaded so far will be deleted/);
  });
  it('never asks where Cancel loses nothing', () => {
    for (const state of ['completed', 'canceled', 'failed'] as const) expect(cancelQuestion(facts(state, 100 * MiB), 'x')).toBeUndefined();
  });
});
