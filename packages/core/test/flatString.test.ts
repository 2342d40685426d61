// flatString copies a string that V8 may keep as a tree of its pieces into one flat string (ids,
// folders and keys that live as long as a queue entry). The copy must be exact for every string.
import { describe, expect, it } from 'vitest';
import { flatString, newId } from '../src/util/flatString.js';

describe('flatString', () => {
  it('gives back the same text, for every kind of code unit', () => {
    const samples = ['', 'a', '/home/ann/downloads', 'café ÿ', 'Ünïcødé/日本語/файл', 'emoji 😀 and more', 'lone \ud800 and \udfff', '\0nul'];
    for (const s of samples) {
      const built = `${s.slice(0, 1)}${s.slice(1)}-${s}`;
      expect(flatString(built)).toBe(built);
    }
  });

  it('newId is a version 4 UUID, different each time', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
