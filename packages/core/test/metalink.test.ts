import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, looksLikeMetalink, parseMetalink } from '../src/index.js';
import { alignToPieces, checkPieces } from '../src/mirrors/pieces.js';
import { parseXml } from '../src/mirrors/xml.js';

const SHA256 = 'a'.repeat(64);
const doc = (files: string, ns = 'urn:ietf:params:xml:ns:metalink') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<!-- a mirror list -->\n<metalink xmlns="${ns}">\n${files}\n</metalink>`;

describe('parseMetalink (RFC 5854)', () => {
  it('reads files with size, hashes, pieces and URLs sorted by priority', () => {
    const files = parseMetalink(
      doc(`<file name="ubuntu &amp; co.iso">
        <size>600</size>
        <hash type="sha-1">${'b'.repeat(40)}</hash>
        <hash type="sha-256">${SHA256.toUpperCase()}</hash>
        <pieces length="256" type="sha-256"><hash>${'1'.repeat(64)}</hash><hash>${'2'.repeat(64)}</hash><hash>${'3'.repeat(64)}</hash></pieces>
        <url priority="2" location="de">http://de.example/u.iso</url>
        <url priority="1">https://example.org/u.iso</url>
        <url>ftp://ftp.example/u.iso</url>
        <url>magnet:?xt=urn:btih:abc</url>
        <metaurl mediatype="torrent">http://example.org/u.torrent</metaurl>
      </file>`),
    );
    expect(files).toHaveLength(1);
    const f = files[0]!;
    expect(f.name).toBe('ubuntu & co.iso');
    expect(f.size).toBe(600);
    expect(f.hashes.map((h) => h.algorithm)).toEqual(['sha256', 'sha1']);
    expect(f.hashes[0]!.hex).toBe(SHA256);
    expect(f.pieces).toMatchObject({ algorithm: 'sha256', length: 256 });
    expect(f.pieces!.hashes).toHaveLength(3);
    expect(f.urls.map((u) => u.url.href)).toEqual(['https://example.org/u.iso', 'http://de.example/u.iso', 'ftp://ftp.example/u.iso']);
    expect(f.urls[1]!.location).toBe('de');
  });

  it('accepts a prefixed namespace and CDATA', () => {
    const files = parseMetalink(
      `<m:metalink xmlns:m="urn:ietf:params:xml:ns:metalink"><m:file name="a.bin"><m:url><![CDATA[http://h/a?x=1&y=2]]></m:url></m:file></m:metalink>`,
    );
    expect(files[0]!.urls[0]!.url.href).toBe('http://h/a?x=1&y=2');
  });

  it.each([
    ['a name that climbs out', doc('<file name="../etc/passwd"><url>http://h/x</url></file>')],
    ['an absolute name', doc('<file name="/etc/passwd"><url>http://h/x</url></file>')],
    ['a backslash name', doc('<file name="a\\b"><url>http://h/x</url></file>')],
    ['no usable URL', doc('<file name="a"><url>magnet:?x</url></file>')],
    ['no file', doc('')],
    ['Metalink 3', doc('<file name="a"><url>http://h/x</url></file>', 'http://www.metalinker.org/')],
    ['a DOCTYPE', `<!DOCTYPE m [<!ENTITY x "y">]>${doc('<file name="a"><url>http://h/x</url></file>')}`],
    ['unknown entity', doc('<file name="&x;"><url>http://h/x</url></file>')],
    ['a malformed hash', doc('<file name="a"><hash type="sha-256">zz</hash><url>http://h/x</url></file>')],
    ['wrong piece count', doc(`<file name="a"><size>600</size><pieces length="256" type="sha-256"><hash>${SHA256}</hash></pieces><url>http://h/x</url></file>`)],
    ['the same name twice', doc('<file name="a"><url>http://h/x</url></file><file name="a"><url>http://h/y</url></file>')],
    ['unclosed', '<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="a">'],
    ['not XML', 'hello'],
  ])('refuses %s with MG_ERR_INVALID_METALINK', (_what, text) => {
    expect(() => parseMetalink(text)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_METALINK }));
  });

  it('allows a relative name with folders', () => {
    expect(parseMetalink(doc('<file name="dir/sub/a.bin"><url>http://h/x</url></file>'))[0]!.name).toBe('dir/sub/a.bin');
  });

  it('recognises Metalink names and media types', () => {
    expect(looksLikeMetalink('http://h/x.meta4?sig=1')).toBe(true);
    expect(looksLikeMetalink('list.META4')).toBe(true);
    expect(looksLikeMetalink('http://h/x.iso', 'application/metalink4+xml; charset=utf-8')).toBe(true);
    expect(looksLikeMetalink('http://h/x.iso', 'application/octet-stream')).toBe(false);
  });
});

describe('parseXml', () => {
  it('decodes entities and character references, keeps nesting', () => {
    const root = parseXml('<a x="1 &lt; 2"><b>&#65;&#x42;&quot;</b><c/></a>');
    expect(root.attrs.x).toBe('1 < 2');
    expect(root.children.map((c) => c.name)).toEqual(['b', 'c']);
    expect(root.children[0]!.text).toBe('AB"');
  });
  it('refuses mismatched tags and deep nesting', () => {
    expect(() => parseXml('<a><b></a></b>')).toThrow();
    expect(() => parseXml('<a>'.repeat(100) + '</a>'.repeat(100))).toThrow(/nested too deep/);
  });
});

describe('checkPieces', () => {
  const length = 4;
  const data = Buffer.from('abcdefghijklmnopqrstuvw'); // 23 bytes: 5 full pieces and one of 3
  const hashes = Array.from({ length: Math.ceil(data.length / length) }, (_, i) =>
    createHash('sha256').update(data.subarray(i * length, (i + 1) * length)).digest('hex'),
  );
  const pieces = { algorithm: 'sha256' as const, length, hashes };
  async function run(source: Buffer, first: number, last: number, chunk = 3): Promise<string> {
    const span = alignToPieces(first, last, data.length, length);
    async function* body() {
      for (let i = span.start; i <= span.end; i += chunk) yield source.subarray(i, Math.min(span.end + 1, i + chunk));
    }
    let out = '';
    for await (const c of checkPieces(body(), span.start, first, last, data.length, pieces, 'src')) out += Buffer.from(c).toString();
    return out;
  }
  it('yields exactly the asked bytes of checked pieces, whatever the alignment', async () => {
    for (const [first, last] of [[0, 22], [5, 13], [3, 4], [21, 22], [0, 0]] as const) {
      expect(await run(data, first, last)).toBe(data.subarray(first, last + 1).toString());
    }
  });
  it('fails before yielding a byte of a piece that does not match', async () => {
    const bad = Buffer.from(data);
    bad[9] = 0x21;
    const got: string[] = [];
    const span = alignToPieces(5, 13, data.length, length);
    async function* body() {
      yield bad.subarray(span.start, span.end + 1);
    }
    await expect(
      (async () => {
        for await (const c of checkPieces(body(), span.start, 5, 13, data.length, pieces, 'src')) got.push(Buffer.from(c).toString());
      })(),
    ).rejects.toMatchObject({ code: ErrorCodes.MIRROR_FAILED, message: expect.stringMatching(/piece 2 \(bytes 8-11\)/) });
    expect(got.join('')).toBe('fgh');
  });
});
