import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateContent, sha256 } from '../src/index.js';

const hex = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('generateContent', () => {
  it('is deterministic for a spec', () => {
    expect(generateContent({ size: 100_000, seed: 3 }).equals(generateContent({ size: 100_000, seed: 3 }))).toBe(true);
  });

  it('gives different bytes for different seeds, and seed 0 by default', () => {
    const a = generateContent({ size: 4096, seed: 1 });
    const b = generateContent({ size: 4096, seed: 2 });
    expect(a.equals(b)).toBe(false);
    expect(generateContent({ size: 4096 }).equals(generateContent({ size: 4096, seed: 0 }))).toBe(true);
  });

  it('does not depend on the size for the bytes both sizes share', () => {
    expect(generateContent({ size: 10, seed: 5 }).equals(generateContent({ size: 1000, seed: 5 }, 0, 10))).toBe(true);
  });

  it('returns slices equal to the same range of the whole, at unaligned offsets and across 1 MiB pieces', () => {
    const spec = { size: 3 * 1024 * 1024 + 7, seed: 9 };
    const whole = generateContent(spec);
    expect(whole.length).toBe(spec.size);
    const cuts: [number, number][] = [[0, 1], [1, 17], [15, 33], [1024 * 1024 - 5, 1024 * 1024 + 5],
      [12_345, 2 * 1024 * 1024 + 99], [spec.size - 3, spec.size], [0, spec.size]];
    for (const [start, end] of cuts) {
      expect(generateContent(spec, start, end).equals(whole.subarray(start, end)), `${start}-${end}`).toBe(true);
    }
  });

  it('describes huge sizes without materialising them (random access near 2 ** 50)', () => {
    const spec = { size: 2 ** 50, seed: 1 };
    const tail = generateContent(spec, 2 ** 50 - 100, 2 ** 50);
    expect(tail.length).toBe(100);
    expect(generateContent(spec, 2 ** 50 - 60, 2 ** 50 - 50).equals(tail.subarray(40, 50))).toBe(true);
  });

  it('clamps the end to the size and returns nothing for empty ranges', () => {
    expect(generateContent({ size: 10 }, 5, 100).length).toBe(5);
    expect(generateContent({ size: 10 }, 7, 7).length).toBe(0);
    expect(generateContent({ size: 0 }).length).toBe(0);
  });

  it('rejects sizes and offsets that are not non-negative integers', () => {
    expect(() => generateContent({ size: -1 })).toThrow(RangeError);
    expect(() => generateContent({ size: 1.5 })).toThrow(RangeError);
    expect(() => generateContent({ size: 10 }, -1, 5)).toThrow(RangeError);
  });
});

describe('sha256', () => {
  it('hashes a Buffer', () => {
    const data = Buffer.from('multiget');
    expect(sha256(data)).toBe(hex(data));
  });

  it('hashes generated content as the bytes it stands for, across block boundaries', () => {
    const spec = { size: 9 * 1024 * 1024 + 3, seed: 4 };
    expect(sha256(spec)).toBe(hex(generateContent(spec)));
  });

  it('hashes empty content', () => {
    expect(sha256({ size: 0 })).toBe(hex(Buffer.alloc(0)));
  });
});
