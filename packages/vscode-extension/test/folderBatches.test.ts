import { describe, expect, it } from 'vitest';
import { FolderBatches, folderOutcomeMessage } from '../src/model/folderBatches';

describe('FolderBatches', () => {
  it("tells a folder's outcome once, when its last download ends, and knows nothing of other downloads", () => {
    const batches = new FolderBatches();
    batches.add('/d/set', ['a', 'b', 'c']);
    expect(batches.ended('x', 'completed')).toBeUndefined();
    expect(batches.ended('a', 'completed')).toBe('pending');
    expect(batches.ended('b', 'failed')).toBe('pending');
    expect(batches.has('c')).toBe(true);
    expect(batches.ended('c', 'completed')).toEqual({ folder: '/d/set', completed: 2, failed: 1, canceled: 0 });
    expect(batches.has('c')).toBe(false);
    expect(batches.ended('c', 'completed')).toBeUndefined();
  });

  it('keeps two folders apart, and a download asked for twice counts in the first folder only', () => {
    const batches = new FolderBatches();
    batches.add('/d/one', ['a']);
    batches.add('/d/two', ['a', 'b']);
    expect(batches.ended('b', 'canceled')).toEqual({ folder: '/d/two', completed: 0, failed: 0, canceled: 1 });
    expect(batches.ended('a', 'completed')).toEqual({ folder: '/d/one', completed: 1, failed: 0, canceled: 0 });
  });

  it('words the outcome', () => {
    expect(folderOutcomeMessage({ folder: '/d/set', completed: 1, failed: 0, canceled: 0 }, 'set')).toBe('Downloaded folder set (1 file)');
    expect(folderOutcomeMessage({ folder: '/d/set', completed: 9, failed: 0, canceled: 0 }, 'set')).toBe('Downloaded folder set (9 files)');
    expect(folderOutcomeMessage({ folder: '/d/set', completed: 7, failed: 2, canceled: 1 }, 'set')).toBe(
      'Downloaded folder set: 7 of 10 files (2 failed, 1 cancelled)',
    );
  });
});
