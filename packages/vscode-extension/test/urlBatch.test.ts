import { describe, expect, it } from 'vitest';
import { MAX_URLS_PER_PASTE, addSummary, checkUrlBatch, describeUrlBatch, splitUrls } from '../src/model/url';

describe('splitUrls', () => {
  it('splits one URL per line, with CRLF and blank lines', () => {
    expect(splitUrls('https://a.example/1\r\nhttps://a.example/2\n\n  https://a.example/3  \n')).toEqual([
      'https://a.example/1',
      'https://a.example/2',
      'https://a.example/3',
    ]);
  });
  it('splits on spaces and tabs', () => {
    expect(splitUrls('http://a.example/x\thttp://b.example/y  ftp://c.example/z')).toEqual(['http://a.example/x', 'http://b.example/y', 'ftp://c.example/z']);
  });
  it('splits on a comma in front of another URL, with or without a space', () => {
    expect(splitUrls('https://a.example/1,https://a.example/2, sftp://u@h.example/f,')).toEqual(['https://a.example/1', 'https://a.example/2', 'sftp://u@h.example/f']);
  });
  it('keeps a comma that belongs to the URL', () => {
    expect(splitUrls('https://a.example/get?ids=1,2,3 https://a.example/a,b.txt')).toEqual(['https://a.example/get?ids=1,2,3', 'https://a.example/a,b.txt']);
  });
  it('splits URLs glued together when a browser stripped the line breaks, but keeps a URL inside a URL', () => {
    expect(splitUrls('https://a.example/1.isohttps://a.example/2.isoftp://b.example/3')).toEqual(['https://a.example/1.iso', 'https://a.example/2.iso', 'ftp://b.example/3']);
    expect(splitUrls('https://web.archive.org/web/2020/http://x.example/a.zip')).toEqual(['https://web.archive.org/web/2020/http://x.example/a.zip']);
    expect(splitUrls('https://r.example/go?u=http://x.example/a.zip&v=https://y')).toEqual(['https://r.example/go?u=http://x.example/a.zip&v=https://y']);
  });
  it('keeps one of each duplicate, in order of first appearance', () => {
    expect(splitUrls('https://a.example/2 https://a.example/1 https://a.example/2')).toEqual(['https://a.example/2', 'https://a.example/1']);
  });
  it('gives nothing for empty or blank text, and a single URL for a single URL', () => {
    expect(splitUrls('')).toEqual([]);
    expect(splitUrls(' \n\t ,')).toEqual([]);
    expect(splitUrls('  https://a.example/x.iso ')).toEqual(['https://a.example/x.iso']);
  });
});

describe('checkUrlBatch', () => {
  it('validates each piece and names the rejected ones with their problem', () => {
    const batch = checkUrlBatch('https://a.example/1 file:///etc/passwd notaurl ftp://a.example/2', ['http', 'https']);
    expect(batch.urls).toEqual(['https://a.example/1']);
    expect(batch.rejected.map((r) => r.text)).toEqual(['file:///etc/passwd', 'notaurl', 'ftp://a.example/2']);
    expect(batch.rejected[0]!.problem).toMatch(/cannot download "file:"/);
    expect(batch.rejected[1]!.problem).toMatch(/not a URL/);
    expect(batch.rejected[2]!.problem).toMatch(/does not serve "ftp:"/);
  });
});

describe('describeUrlBatch', () => {
  it('says nothing for one valid URL or several valid ones', () => {
    expect(describeUrlBatch('https://a.example/1')).toBeUndefined();
    expect(describeUrlBatch('https://a.example/1\nhttps://a.example/2')).toBeUndefined();
  });
  it('blocks a single invalid piece with its own problem', () => {
    expect(describeUrlBatch('javascript:alert(1)')).toEqual({ message: expect.stringMatching(/cannot download "javascript:"/), blocking: true });
  });
  it('names the skipped piece when some are valid, without blocking', () => {
    const d = describeUrlBatch('https://a.example/1 oops https://a.example/2 data:x');
    expect(d?.blocking).toBe(false);
    expect(d?.message).toMatch(/^2 of 4 will be added; skipped: "oops": This is not a URL.* \(and 1 more\)$/);
  });
  it('blocks when no piece is valid', () => {
    expect(describeUrlBatch('oops data:x')).toEqual({ message: expect.stringMatching(/^None of these 2/), blocking: true });
  });
  it(`blocks more than ${MAX_URLS_PER_PASTE} URLs`, () => {
    const many = Array.from({ length: MAX_URLS_PER_PASTE + 1 }, (_, i) => `https://a.example/${i}`).join('\n');
    expect(describeUrlBatch(many)?.blocking).toBe(true);
  });
});

describe('addSummary', () => {
  it('counts what was added', () => {
    expect(addSummary(1, [])).toBe('Added 1 download');
    expect(addSummary(3, [])).toBe('Added 3 downloads');
  });
  it('names the first skipped URL and its reason', () => {
    expect(addSummary(2, [{ url: 'oops', reason: 'This is not a URL' }])).toBe('Added 2, skipped 1: "oops" (This is not a URL)');
    expect(addSummary(0, [{ url: 'a', reason: 'x' }, { url: 'b', reason: 'y' }])).toBe('Added nothing; skipped 2: "a" (x), and 1 more');
  });
  it('shortens a long URL', () => {
    const long = `https://a.example/${'x'.repeat(100)}`;
    expect(addSummary(0, [{ url: long, reason: 'r' }])).toMatch(/^Added nothing; skipped 1: "https:\/\/a\.example\/x+…" \(r\)$/);
  });
});
