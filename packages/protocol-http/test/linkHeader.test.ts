import { describe, expect, it } from 'vitest';
import { duplicatesOf, parseLinkHeader } from '../src/linkHeader.js';

const base = new URL('https://example.org/files/a.iso');

describe('Link header (RFC 8288, RFC 6249)', () => {
  it('splits links on commas outside <…> and quotes, and reads parameters', () => {
    const links = parseLinkHeader('<http://m1/a,b.iso>; rel="duplicate"; pri=2; title="x, y", </rel.iso>; rel=duplicate', base);
    expect(links.map((l) => l.url.href)).toEqual(['http://m1/a,b.iso', 'https://example.org/rel.iso']);
    expect(links[0]!.params).toEqual({ rel: 'duplicate', pri: '2', title: 'x, y' });
  });
  it('keeps duplicates only, ordered by pri, without the response URL or odd schemes', () => {
    const headers = {
      link: [
        '<http://m2/a.iso>; rel=duplicate; pri=2',
        '<http://m1/a.iso>; rel="duplicate describedby"; pri=1',
        '<https://example.org/files/a.iso>; rel=duplicate',
        '<javascript:alert(1)>; rel=duplicate',
        '<http://m3/a.torrent>; rel=describedby',
      ],
    };
    expect(duplicatesOf(headers, base).map((u) => u.href)).toEqual(['http://m1/a.iso', 'http://m2/a.iso']);
  });
  it('returns nothing without a Link header', () => {
    expect(duplicatesOf({}, base)).toEqual([]);
  });
});
