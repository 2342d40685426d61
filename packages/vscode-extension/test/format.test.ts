import { describe, expect, it } from 'vitest';
import { formatBytes, formatDateTime, formatEta, formatProgressBytes, formatRateSetting, formatRowBytes, formatSpeed, parseRate, percentDone, validateConnections } from '../src/model/format';

describe('formatBytes', () => {
  it('uses binary units with one decimal above a KiB', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(256 * 1024 ** 2)).toBe('256.0 MiB');
    expect(formatBytes(3 * 1024 ** 4)).toBe('3.0 TiB');
  });
  it('never shows a negative or non-finite count', () => {
    expect(formatBytes(-5)).toBe('0 B');
    expect(formatBytes(Number.NaN)).toBe('0 B');
    expect(formatBytes(Number.POSITIVE_INFINITY)).toBe('0 B');
  });
});

describe('formatSpeed', () => {
  it('appends /s', () => {
    expect(formatSpeed(4 * 1024 ** 2)).toBe('4.0 MiB/s');
    expect(formatSpeed(0)).toBe('0 B/s');
  });
});

describe('formatEta', () => {
  it('shows seconds, minutes and hours', () => {
    expect(formatEta(0)).toBe('0s');
    expect(formatEta(41.2)).toBe('42s');
    expect(formatEta(185)).toBe('3m 05s');
    expect(formatEta(2 * 3600 + 4 * 60)).toBe('2h 04m');
  });
  it('shows a dash when unknown, negative or absurd', () => {
    expect(formatEta(null)).toBe('—');
    expect(formatEta(undefined)).toBe('—');
    expect(formatEta(-1)).toBe('—');
    expect(formatEta(Number.NaN)).toBe('—');
    expect(formatEta(100 * 3600)).toBe('—');
  });
});

describe('percentDone', () => {
  it('floors so that 100 means complete', () => {
    expect(percentDone(999, 1000)).toBe(99);
    expect(percentDone(1000, 1000)).toBe(100);
    expect(percentDone(0, 1000)).toBe(0);
  });
  it('is null for an unknown size and 100 for an empty file', () => {
    expect(percentDone(10, null)).toBeNull();
    expect(percentDone(0, 0)).toBe(100);
  });
  it('stays within 0..100 for inconsistent figures', () => {
    expect(percentDone(2000, 1000)).toBe(100);
    expect(percentDone(-5, 1000)).toBe(0);
  });
});

describe('formatProgressBytes', () => {
  it('shows the total when known', () => {
    expect(formatProgressBytes(1024, 4096)).toBe('1.0 KiB of 4.0 KiB');
    expect(formatProgressBytes(1024, null)).toBe('1.0 KiB');
  });
});

describe('parseRate', () => {
  it('parses binary units like the CLI', () => {
    expect(parseRate('2M')).toBe(2 * 1024 ** 2);
    expect(parseRate('500K')).toBe(500 * 1024);
    expect(parseRate('1.5g')).toBe(Math.floor(1.5 * 1024 ** 3));
    expect(parseRate('1048576')).toBe(1048576);
    expect(parseRate(' 2MiB/s ')).toBe(2 * 1024 ** 2);
  });
  it('treats empty as no limit', () => {
    expect(parseRate('')).toBeNull();
    expect(parseRate('   ')).toBeNull();
  });
  it('refuses what is not a rate', () => {
    for (const bad of ['fast', '-1', '0', '0.1', '2T', '1e6', '2 M B']) expect(parseRate(bad)).toBeUndefined();
  });
});

describe('formatDateTime', () => {
  it('writes date and time the way the locale does, in the given time zone', () => {
    expect(formatDateTime('2026-12-04T19:05:00.000Z', 'en-GB', 'UTC')).toBe('4 Dec 2026, 19:05');
    // ICU releases differ on the space before PM (U+0020 or U+202F).
    expect(formatDateTime('2026-12-04T19:05:00.000Z', 'en-US', 'UTC')).toMatch(/^Dec 4, 2026, 7:05\sPM$/);
    expect(formatDateTime('2026-12-04T19:05:00.000Z', 'de-DE', 'Europe/Berlin')).toBe('04.12.2026, 20:05');
  });
  it('is empty for no time or a time it cannot read', () => {
    expect(formatDateTime(null)).toBe('');
    expect(formatDateTime('yesterday-ish')).toBe('');
  });
});

describe('formatRateSetting', () => {
  it('writes a rate so that parseRate reads the same number back', () => {
    for (const rate of [1, 1000, 1024, 512 * 1024, 1536 * 1024, 2 * 1024 ** 2, 3 * 1024 ** 3]) expect(parseRate(formatRateSetting(rate))).toBe(rate);
    expect(formatRateSetting(512 * 1024)).toBe('512K');
    expect(formatRateSetting(2 * 1024 ** 2)).toBe('2M');
    expect(formatRateSetting(1000)).toBe('1000');
  });
});

describe('validateConnections', () => {
  it('accepts whole numbers from 1 to 256 only', () => {
    for (const ok of ['1', '8', ' 16 ', '256']) expect(validateConnections(ok)).toBeUndefined();
    for (const bad of ['0', '257', '1000', '-1', '2.5', 'eight', '', '1e2']) expect(validateConnections(bad)).toBe('A whole number from 1 to 256.');
  });
});

describe('formatRowBytes', () => {
  it('shows progress for unfinished and completed downloads', () => {
    expect(formatRowBytes('downloading', 1024, 2048)).toBe('1.0 KiB of 2.0 KiB');
    expect(formatRowBytes('completed', 2048, 2048)).toBe('2.0 KiB of 2.0 KiB');
  });
  it('says what a failed or cancelled download had transferred, never a bare 0 B', () => {
    expect(formatRowBytes('failed', 3 * 1024 * 1024, 16 * 1024 * 1024)).toBe('3.0 MiB of 16.0 MiB transferred');
    expect(formatRowBytes('failed', 0, null)).toBe('nothing transferred');
    expect(formatRowBytes('canceled', 0, 1024)).toBe('nothing transferred');
  });
});
