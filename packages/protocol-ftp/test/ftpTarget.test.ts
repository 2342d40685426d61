import { describe, expect, it } from 'vitest';
import { ftpTarget } from '../src/index.js';

const url = (text: string): URL => new URL(text);

describe('ftpTarget', () => {
  it('reads host, default port, path relative to the login directory and the file name', () => {
    const t = ftpTarget(url('ftp://example.org/pub/dir/file.iso'), undefined, 'off');
    expect(t).toMatchObject({ host: 'example.org', port: 21, security: 'none', path: 'pub/dir/file.iso', fileName: 'file.iso' });
    expect(t.anonymous).toBe(true);
    expect(t.user).toBe('anonymous');
  });

  it('uses implicit TLS on port 990 for ftps:// whatever the tls option says', () => {
    expect(ftpTarget(url('ftps://example.org/f'), undefined, 'off')).toMatchObject({ port: 990, security: 'implicit' });
    expect(ftpTarget(url('ftps://example.org:2990/f'), undefined, 'explicit')).toMatchObject({ port: 2990, security: 'implicit' });
  });

  it('secures ftp:// URLs as the tls option says', () => {
    expect(ftpTarget(url('ftp://h/f'), undefined, 'explicit').security).toBe('explicit');
    expect(ftpTarget(url('ftp://h:2121/f'), undefined, 'implicit')).toMatchObject({ port: 2121, security: 'implicit' });
    expect(ftpTarget(url('ftp://h/f'), undefined, 'off').security).toBe('none');
  });

  it('strips the brackets of an IPv6 literal', () => {
    const t = ftpTarget(url('ftp://[::1]:2121/a.bin'), undefined, 'off');
    expect(t.host).toBe('::1');
    expect(t.port).toBe(2121);
    expect(t.url.href).toBe('ftp://[::1]:2121/a.bin');
  });

  it('percent-decodes the path and makes it absolute with a leading %2F (RFC 1738)', () => {
    expect(ftpTarget(url('ftp://h/a%20dir/f%C3%BCr.txt'), undefined, 'off')).toMatchObject({ path: 'a dir/für.txt', fileName: 'für.txt' });
    expect(ftpTarget(url('ftp://h/%2Fetc/motd'), undefined, 'off').path).toBe('/etc/motd');
  });

  it('drops ;type=i and refuses ASCII and directory typecodes', () => {
    expect(ftpTarget(url('ftp://h/f.bin;type=i'), undefined, 'off')).toMatchObject({ path: 'f.bin', fileName: 'f.bin' });
    expect(() => ftpTarget(url('ftp://h/f.txt;type=a'), undefined, 'off')).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_URL' }));
  });

  it('refuses a URL that names a directory, and CR/LF/NUL that would inject commands', () => {
    expect(() => ftpTarget(url('ftp://h/dir/'), undefined, 'off')).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_URL' }));
    expect(() => ftpTarget(url('ftp://h/'), undefined, 'off')).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_URL' }));
    expect(() => ftpTarget(url('ftp://h/a%0D%0ADELE%20x'), undefined, 'off')).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_URL' }));
    expect(() => ftpTarget(url('ftp://h/a%00b'), undefined, 'off')).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_URL' }));
  });

  it('takes credentials from the URL, percent-decoded, and keeps them out of the URL it returns', () => {
    const t = ftpTarget(url('ftp://al%40ice:p%3Ass%20w@h/f'), undefined, 'off');
    expect(t).toMatchObject({ user: 'al@ice', password: 'p:ss w', anonymous: false });
    expect(t.url.href).toBe('ftp://h/f');
    expect(t.poolKey).not.toContain('p:ss');
  });

  it('prefers the credentials option over the URL, and refuses bearer tokens', () => {
    const t = ftpTarget(url('ftp://u:p@h/f'), { username: 'bob', password: 'x' }, 'off');
    expect(t).toMatchObject({ user: 'bob', password: 'x' });
    expect(() => ftpTarget(url('ftp://h/f'), { bearer: 't' }, 'off')).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_OPTION' }));
  });

  it('gives different pool keys to different users, passwords, security and ports', () => {
    const keys = new Set([
      ftpTarget(url('ftp://h/f'), undefined, 'off').poolKey,
      ftpTarget(url('ftp://h/g'), undefined, 'off').poolKey,
      ftpTarget(url('ftp://u:p@h/f'), undefined, 'off').poolKey,
      ftpTarget(url('ftp://u:q@h/f'), undefined, 'off').poolKey,
      ftpTarget(url('ftp://h/f'), undefined, 'explicit').poolKey,
      ftpTarget(url('ftp://h:22/f'), undefined, 'off').poolKey,
    ]);
    // The first two differ only by path: same key, same connections.
    expect(keys.size).toBe(5);
  });

  it('refuses invalid percent-encoding', () => {
    expect(() => ftpTarget(url('ftp://h/%E0%A4%A'), undefined, 'off')).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_URL' }));
  });
});
