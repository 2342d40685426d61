import { describe, expect, it } from 'vitest';
import { DownloadError, ErrorCodes, GlobPattern, type RemoteEntry, walkRemoteTree } from '../src/index.js';

describe('GlobPattern', () => {
  it.each([
    ['*.iso', 'a/b/x.iso', true],
    ['*.iso', 'a/b/x.iso.part', false],
    ['docs/*.pdf', 'docs/a.pdf', true],
    ['docs/*.pdf', 'docs/sub/a.pdf', false],
    ['docs/**', 'docs/sub/a.pdf', true],
    ['**/tmp/**', 'a/tmp/x', true],
    ['**/tmp/**', 'tmp/x', true],
    ['file?.[ch]', 'file1.c', true],
    ['file?.[!ch]', 'file1.c', false],
    ['*.{iso,img}', 'x.img', true],
    ['\\*', '*', true],
    ['\\*', 'x', false],
    ['a.b', 'axb', false],
  ])('%s on %s: %s', (pattern, path, expected) => {
    expect(new GlobPattern(pattern).matches(path)).toBe(expected);
  });
});

/** A server's tree: folder URL path to its listing. */
function lister(tree: Record<string, RemoteEntry[]>): (url: URL) => Promise<RemoteEntry[]> {
  return async (url) => {
    const entries = tree[decodeURIComponent(url.pathname)];
    if (!entries) throw new DownloadError(ErrorCodes.FORBIDDEN, `cannot list ${url.pathname}`);
    return entries;
  };
}

const file = (name: string, size = 1): RemoteEntry => ({ name, type: 'file', size });
const folder = (name: string): RemoteEntry => ({ name, type: 'directory' });

describe('walkRemoteTree', () => {
  const root = new URL('ftp://u:p@host/pub/');

  it('never lets a name leave its folder, and sanitises the rest as any server name', async () => {
    const tree = await walkRemoteTree(
      lister({
        '/pub/': [file('.'), file('..'), file('a/b'), file('a\\b'), file('x\0y'), file('new\nline'), file('.bashrc'), file('ok.bin'), file('CON.txt')],
      }),
      root,
    );
    expect(tree.files.map((f) => [f.remotePath, f.path])).toEqual([
      ['.bashrc', 'bashrc'],
      ['CON.txt', '_CON.txt'],
      ['ok.bin', 'ok.bin'],
    ]);
    expect(tree.skipped.map((s) => s.remotePath).sort()).toEqual(['a/b', 'a\\b', 'new\nline', 'x\0y']);
    expect(tree.files[0]!.url.href).toBe('ftp://u:p@host/pub/.bashrc');
  });

  it('keeps the first of two entries with one local name, whatever their case', async () => {
    const tree = await walkRemoteTree(lister({ '/pub/': [file('read.me'), file('READ.ME'), file('.read.me')] }), root);
    expect(tree.files.map((f) => f.remotePath)).toEqual(['.read.me']);
    expect(tree.skipped.map((s) => s.remotePath)).toEqual(['READ.ME', 'read.me']);
  });

  it('skips links and special entries, applies include, exclude and depth', async () => {
    const tree = await walkRemoteTree(
      lister({
        '/pub/': [file('a.iso'), file('a.txt'), folder('sub'), folder('skip'), { name: 'l', type: 'symlink' }, { name: 'dev', type: 'other' }],
        '/pub/sub/': [file('b.iso'), folder('deep')],
        '/pub/sub/deep/': [file('c.iso')],
        '/pub/skip/': [file('d.iso')],
      }),
      root,
      { include: ['*.iso'], exclude: ['skip'], depth: 1 },
    );
    expect(tree.files.map((f) => f.remotePath)).toEqual(['a.iso', 'sub/b.iso']);
    expect(tree.skipped.map((s) => s.remotePath)).toEqual(['dev', 'l']);
  });

  it('skips a subfolder it cannot list, but fails when the root cannot be listed', async () => {
    const tree = await walkRemoteTree(lister({ '/pub/': [folder('closed'), file('x')] }), root);
    expect(tree.files.map((f) => f.remotePath)).toEqual(['x']);
    expect(tree.skipped[0]).toMatchObject({ remotePath: 'closed/', reason: expect.stringContaining('MG_ERR_FORBIDDEN') });
    await expect(walkRemoteTree(lister({}), root)).rejects.toMatchObject({ code: 'MG_ERR_FORBIDDEN' });
  });

  it('refuses malformed globs and depths', async () => {
    await expect(walkRemoteTree(lister({ '/pub/': [] }), root, { include: ['[abc'] })).rejects.toMatchObject({ code: 'MG_ERR_INVALID_OPTION' });
    await expect(walkRemoteTree(lister({ '/pub/': [] }), root, { depth: -1 })).rejects.toMatchObject({ code: 'MG_ERR_INVALID_OPTION' });
  });

  it('stops a listing that never ends', async () => {
    const endless = async (url: URL): Promise<RemoteEntry[]> =>
      url.pathname.length > 4000 ? [] : Array.from({ length: 600 }, (_, i) => folder(`d${i}`));
    await expect(walkRemoteTree(endless, root)).rejects.toMatchObject({ code: 'MG_ERR_PROTOCOL' });
  });
});
