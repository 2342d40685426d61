import { describe, expect, it } from 'vitest';
import { MAX_DROP_URLS, urlsFromDrop } from '../src/webview/drop';

describe('urlsFromDrop', () => {
  it('takes every entry of a text/uri-list, skipping comments and blank lines', () => {
    const list = '# dragged from a browser\r\nhttps://a.example/one.iso\r\n\r\nftp://b.example/pub/two.txt\r\n';
    expect(urlsFromDrop(list, 'https://ignored.example/')).toEqual({ urls: ['https://a.example/one.iso', 'ftp://b.example/pub/two.txt'], refused: [] });
  });
  it('refuses uri-list entries Multiget cannot download, with the reason', () => {
    const { urls, refused } = urlsFromDrop('file:///home/u/notes.txt\nhttps://a.example/f.bin', '');
    expect(urls).toEqual(['https://a.example/f.bin']);
    expect(refused).toEqual([{ item: 'file:///home/u/notes.txt', reason: expect.stringContaining('cannot download "file:"') }]);
  });
  it('finds the URLs in plain text, one per line, separated by spaces, or inside a sentence', () => {
    const text = 'Get https://a.example/x.iso and\nsftp://h.example/data.tar,\n(also <https://c.example/y.zip>). Thanks.';
    expect(urlsFromDrop('', text).urls).toEqual(['https://a.example/x.iso', 'sftp://h.example/data.tar', 'https://c.example/y.zip']);
  });
  it('ignores ordinary words, refuses links of other schemes, and drops duplicates', () => {
    const { urls, refused } = urlsFromDrop('', 'hello https://a.example/f https://a.example/f javascript:alert(1) mailto:x@y.example');
    expect(urls).toEqual(['https://a.example/f']);
    expect(refused.map((r) => r.item)).toEqual(['javascript:alert(1)', 'mailto:x@y.example']);
  });
  it('narrows to the schemes the service serves', () => {
    const { urls, refused } = urlsFromDrop('ftp://a.example/f\nhttps://a.example/g', '', ['http', 'https']);
    expect(urls).toEqual(['https://a.example/g']);
    expect(refused[0]?.reason).toContain('does not serve "ftp:"');
  });
  it('has nothing for a text without URLs', () => {
    expect(urlsFromDrop('', 'just some words')).toEqual({ urls: [], refused: [] });
  });
  it(`adds at most ${MAX_DROP_URLS} downloads from one drop`, () => {
    const list = Array.from({ length: MAX_DROP_URLS + 20 }, (_, i) => `https://a.example/f${i}`).join('\n');
    const { urls } = urlsFromDrop(list, '');
    expect(urls).toHaveLength(MAX_DROP_URLS);
    expect(urls[0]).toBe('https://a.example/f0');
  });
});
