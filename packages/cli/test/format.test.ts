import { describe, expect, it } from 'vitest';
import { redactUrl } from '@multiget/core';
import { Redactor, barParts, formatDuration, formatEta, formatPercent, formatSize, truncate } from '../src/index.js';

describe('display formatting', () => {
  it('formats sizes with binary units', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(1023)).toBe('1023 B');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(256 * 1024 * 1024)).toBe('256.0 MiB');
  });

  it('formats ETAs, durations and percentages', () => {
    expect(formatEta(undefined)).toBe('--:--');
    expect(formatEta(37)).toBe('0:37');
    expect(formatEta(3723)).toBe('1:02:03');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(8200)).toBe('8.2 s');
    expect(formatDuration(185_000)).toBe('3 min 05 s');
    expect(formatPercent(999, 1000)).toBe('99%');
    expect(formatPercent(1000, 1000)).toBe('100%');
  });

  it('draws bars of the exact width', () => {
    expect(barParts(0, 10)).toEqual(['', '          ']);
    expect(barParts(0.5, 10)).toEqual(['====>', '     ']);
    expect(barParts(1, 10)).toEqual(['==========', '']);
    for (const f of [0, 0.01, 0.33, 0.99, 1, 2]) expect(barParts(f, 17).join('')).toHaveLength(17);
    expect(truncate('abcdef', 4)).toBe('abc…');
  });
});

describe('redaction', () => {
  it('drops credentials from URLs, parsable or not', () => {
    expect(redactUrl('http://u:p@h.example/f?q=1')).toBe('http://h.example/f?q=1');
    expect(redactUrl('http://u:p@[bad')).toBe('http://[bad');
  });

  it('removes known secrets in every form, and leaves short ones alone', () => {
    const r = new Redactor().add('s3cret/pw').add('ab').addUrl('http://u:p%40ssw0rd@h/');
    expect(r.text('a s3cret/pw b s3cret%2Fpw c p@ssw0rd d p%40ssw0rd ab')).toBe('a *** b *** c *** d *** ab');
    expect(r.json({ error: { message: 'x s3cret/pw' }, n: 1 })).toEqual({ error: { message: 'x ***' }, n: 1 });
  });
});
