import { describe, expect, it } from 'vitest';
import { validatorMismatch, versionProblem } from '../src/index.js';

describe('versionProblem (resume, refreshed links)', () => {
  it('accepts the same size and validators, whatever else the new side adds', () => {
    expect(versionProblem({ size: 10, validators: { etag: '"a"' } }, { size: 10, validators: { etag: '"a"', lastModified: 'x' } })).toBeUndefined();
  });

  it('names the first difference: size, ETag, Last-Modified, mtime', () => {
    expect(versionProblem({ size: 10, validators: { etag: '"a"' } }, { size: 11, validators: { etag: '"a"' } })).toContain('size 10 → 11');
    expect(versionProblem({ size: 10, validators: { etag: '"a"' } }, { size: 10, validators: { etag: '"b"' } })).toContain('ETag "a" → "b"');
    expect(versionProblem({ size: 10, validators: { lastModified: 'x' } }, { size: 10, validators: {} })).toContain('Last-Modified x → none');
    expect(versionProblem({ size: 10, validators: { mtime: 1 } }, { size: 10, validators: { mtime: 2 } })).toContain('modification time');
  });

  it('refuses a size alone as proof', () => {
    expect(versionProblem({ size: 10, validators: { size: 10 } }, { size: 10, validators: { size: 10 } })).toContain('no validator');
  });
});

describe('validatorMismatch (each response of a driver)', () => {
  it('compares ETags exactly, and Last-Modified only when neither side has an ETag', () => {
    expect(validatorMismatch({ etag: '"a"' }, { etag: 'W/"a"' })).toBe('ETag W/"a", was "a"');
    expect(validatorMismatch({ etag: '"a"', lastModified: 'x' }, { etag: '"a"', lastModified: 'y' })).toBeUndefined();
    expect(validatorMismatch({ lastModified: 'x' }, { lastModified: 'y' })).toBe('Last-Modified y, was x');
  });

  it('counts what a side does not report as agreeing', () => {
    expect(validatorMismatch({ etag: '"a"', size: 5, mtime: 1 }, {})).toBeUndefined();
    expect(validatorMismatch({}, { etag: '"a"', size: 5, mtime: 1 })).toBeUndefined();
  });

  it('compares sizes and modification times when both are known', () => {
    expect(validatorMismatch({ size: 5 }, { size: 6 })).toBe('size 6, was 5');
    expect(validatorMismatch({ mtime: 0 }, { mtime: 1000 })).toBe('modified 1970-01-01T00:00:01.000Z, was 1970-01-01T00:00:00.000Z');
  });
});
