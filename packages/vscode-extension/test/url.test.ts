import { describe, expect, it } from 'vitest';
import { credentialHost, findUrl, normalizeHost, urlAt, validateDownloadUrl, validateHost } from '../src/model/url';

describe('validateDownloadUrl', () => {
  it('accepts the schemes the service downloads', () => {
    for (const url of ['http://a.example/x', 'https://a.example/x.iso', 'ftp://a.example/f', 'ftps://a.example/f', 'sftp://u@a.example/f', 'HTTPS://A.EXAMPLE/']) {
      expect(validateDownloadUrl(url)).toBeUndefined();
    }
  });
  it('accepts surrounding white space (it is trimmed)', () => {
    expect(validateDownloadUrl('  https://a.example/x  ')).toBeUndefined();
  });
  it('refuses schemes the service never serves', () => {
    for (const url of ['file:///etc/passwd', 'data:text/plain,hi', 'javascript:alert(1)', 'vscode://x', 'command:workbench.action.quit', 'blob:https://a/b', 'about:blank', 'ws://a.example/']) {
      expect(validateDownloadUrl(url)).toMatch(/cannot download/);
    }
  });
  it('refuses empty text, non-URLs, missing hosts and NUL', () => {
    expect(validateDownloadUrl('')).toMatch(/Enter a URL/);
    expect(validateDownloadUrl('example.com/file')).toMatch(/not a URL/);
    expect(validateDownloadUrl('http://')).toBeDefined();
    expect(validateDownloadUrl('https://a.example/\0')).toMatch(/NUL/);
    expect(validateDownloadUrl(`https://a.example/${'x'.repeat(9000)}`)).toMatch(/longer/);
  });
  it('narrows to the schemes the running service reports', () => {
    expect(validateDownloadUrl('ftp://a.example/f', ['http', 'https'])).toMatch(/does not serve "ftp:"/);
    expect(validateDownloadUrl('https://a.example/f', ['http', 'https'])).toBeUndefined();
  });
});

describe('findUrl', () => {
  it('takes a text that is a URL as it is', () => {
    expect(findUrl(' https://a.example/a%20b?x=1 ')).toBe('https://a.example/a%20b?x=1');
  });
  it('finds the first downloadable URL in prose or Markdown, without trailing punctuation', () => {
    expect(findUrl('Get it from https://a.example/f.iso.')).toBe('https://a.example/f.iso');
    expect(findUrl('[iso](https://a.example/f.iso) or ftp://b.example/g')).toBe('https://a.example/f.iso');
    expect(findUrl('"https://a.example/q"')).toBe('https://a.example/q');
  });
  it('finds nothing when there is no downloadable URL', () => {
    expect(findUrl('just words')).toBeUndefined();
    expect(findUrl('javascript:alert(1)')).toBeUndefined();
    expect(findUrl('')).toBeUndefined();
  });
});

describe('urlAt', () => {
  const line = 'see https://a.example/one.iso and http://b.example/two.';
  it('finds the URL that covers the cursor', () => {
    expect(urlAt(line, 10)).toBe('https://a.example/one.iso');
    expect(urlAt(line, line.indexOf('two'))).toBe('http://b.example/two');
  });
  it('finds nothing between URLs', () => {
    expect(urlAt(line, 1)).toBeUndefined();
    expect(urlAt(line, line.indexOf('and') + 1)).toBeUndefined();
  });
});

describe('hosts for credentials', () => {
  it('keys credentials by host and non-default port', () => {
    expect(credentialHost('https://User:pw@Downloads.Example.com/x')).toBe('downloads.example.com');
    expect(credentialHost('https://a.example:8443/x')).toBe('a.example:8443');
    expect(credentialHost('https://a.example:443/x')).toBe('a.example');
    expect(credentialHost('nonsense')).toBeUndefined();
  });
  it('normalises typed hosts and pasted URLs alike', () => {
    expect(normalizeHost('Example.COM')).toBe('example.com');
    expect(normalizeHost('example.com:8080')).toBe('example.com:8080');
    expect(normalizeHost('https://example.com/path')).toBe('example.com');
    expect(normalizeHost('[::1]:8080')).toBe('[::1]:8080');
  });
  it('refuses what is not a host', () => {
    for (const bad of ['', 'a b', 'exa_mple.com/x', 'host:port', '-bad.example', 'a.example:99999999']) expect(validateHost(bad)).toBeDefined();
    expect(validateHost('downloads.example.com')).toBeUndefined();
  });
});
