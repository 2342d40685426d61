import { describe, expect, it } from 'vitest';
import { NoProxyList, ProxyResolver, parseProxyUrl } from '../src/index.js';

describe('parseProxyUrl', () => {
  it('reads each supported scheme with its default port', () => {
    expect(parseProxyUrl('http://proxy.example', 'x')).toMatchObject({ kind: 'http', host: 'proxy.example', port: 80 });
    expect(parseProxyUrl('https://proxy.example', 'x')).toMatchObject({ kind: 'https', port: 443 });
    expect(parseProxyUrl('socks5://127.0.0.1', 'x')).toMatchObject({ kind: 'socks5', port: 1080 });
    expect(parseProxyUrl('socks5h://[::1]:9050', 'x')).toMatchObject({ kind: 'socks5h', host: '::1', port: 9050, display: 'socks5h://[::1]:9050' });
    expect(parseProxyUrl('socks://h:1', 'x')).toMatchObject({ kind: 'socks5', display: 'socks5://h:1' });
  });

  it('takes a value without a scheme as an HTTP proxy', () => {
    expect(parseProxyUrl('proxy.example:3128', 'HTTP_PROXY')).toMatchObject({ kind: 'http', host: 'proxy.example', port: 3128 });
  });

  it('decodes credentials and keeps them out of display', () => {
    const proxy = parseProxyUrl('socks5://us%40er:p%3Ass@127.0.0.1:1080', 'x');
    expect(proxy).toMatchObject({ username: 'us@er', password: 'p:ss', display: 'socks5://127.0.0.1:1080' });
    expect(proxy.href).toBe('socks5://us%40er:p%3Ass@127.0.0.1:1080');
  });

  it('refuses unsupported schemes, paths and garbage without echoing the value', () => {
    for (const bad of ['socks4://u:secret@h:1', 'ftp://u:secret@h:21', 'http://u:secret@h:1/path', 'http://', '::::']) {
      let caught: unknown;
      try {
        parseProxyUrl(bad, '--proxy');
      } catch (err) {
        caught = err;
      }
      expect(caught).toMatchObject({ code: 'MG_ERR_INVALID_OPTION' });
      expect((caught as Error).message).not.toContain('secret');
      expect((caught as Error).message).toContain('--proxy');
    }
  });

  it('refuses SOCKS5 credentials longer than RFC 1929 allows', () => {
    expect(() => parseProxyUrl(`socks5://${'u'.repeat(256)}:p@h:1`, 'x')).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_OPTION' }));
  });
});

describe('NoProxyList', () => {
  it('matches a domain and every name below it, with or without a leading dot or *.', () => {
    for (const list of ['example.com', '.example.com', '*.example.com', 'EXAMPLE.COM.']) {
      const noProxy = new NoProxyList(list);
      expect(noProxy.matches('example.com', 80)).toBe(true);
      expect(noProxy.matches('a.b.Example.com', 80)).toBe(true);
      expect(noProxy.matches('notexample.com', 80)).toBe(false);
      expect(noProxy.matches('example.com.evil', 80)).toBe(false);
    }
  });

  it('matches literal addresses and CIDR ranges, IPv4 and IPv6', () => {
    const noProxy = new NoProxyList('10.0.0.0/8, 192.168.1.7 ::1 fd00::/8');
    expect(noProxy.matches('10.200.3.4', 80)).toBe(true);
    expect(noProxy.matches('11.0.0.1', 80)).toBe(false);
    expect(noProxy.matches('192.168.1.7', 80)).toBe(true);
    expect(noProxy.matches('192.168.1.8', 80)).toBe(false);
    expect(noProxy.matches('[::1]', 80)).toBe(true);
    expect(noProxy.matches('0:0:0:0:0:0:0:1', 80)).toBe(true);
    expect(noProxy.matches('fd12::5', 80)).toBe(true);
    expect(noProxy.matches('fe80::1', 80)).toBe(false);
    // Names are not resolved: an address entry never matches a name.
    expect(noProxy.matches('localhost', 80)).toBe(false);
  });

  it('honours a port on an entry', () => {
    const noProxy = new NoProxyList('example.com:8080,[::1]:2121,127.0.0.1:21');
    expect(noProxy.matches('example.com', 8080)).toBe(true);
    expect(noProxy.matches('example.com', 80)).toBe(false);
    expect(noProxy.matches('::1', 2121)).toBe(true);
    expect(noProxy.matches('::1', 21)).toBe(false);
    expect(noProxy.matches('127.0.0.1', 21)).toBe(true);
    expect(noProxy.matches('127.0.0.1', 22)).toBe(false);
  });

  it('matches everything with * and nothing when empty', () => {
    expect(new NoProxyList('*').matches('anything.example', 1)).toBe(true);
    expect(new NoProxyList('').matches('anything.example', 1)).toBe(false);
    expect(new NoProxyList(undefined).empty).toBe(true);
  });
});

describe('ProxyResolver', () => {
  const url = (text: string): URL => new URL(text);

  it('uses the explicit proxy for every scheme', () => {
    const resolver = new ProxyResolver({ proxy: 'socks5h://127.0.0.1:1080', env: { HTTP_PROXY: 'http://other:1' } });
    for (const target of ['http://h/f', 'https://h/f', 'ftp://h/f', 'sftp://h/f']) {
      expect(resolver.proxyFor(url(target))?.display).toBe('socks5h://127.0.0.1:1080');
    }
  });

  it('reads <scheme>_proxy, then all_proxy, lower case before upper case', () => {
    const resolver = new ProxyResolver({
      env: { http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:1', FTP_PROXY: 'http://ftp:1', ALL_PROXY: 'socks5://all:1' },
    });
    expect(resolver.proxyFor(url('http://h/f'))?.host).toBe('lower');
    expect(resolver.proxyFor(url('ftp://h/f'))?.host).toBe('ftp');
    expect(resolver.proxyFor(url('sftp://h/f'))?.host).toBe('all');
    expect(resolver.proxyFor(url('https://h/f'))?.host).toBe('all');
    expect(resolver.configured).toBe(true);
  });

  it('goes direct for NO_PROXY hosts, explicit proxy included, with the scheme\'s default port', () => {
    const resolver = new ProxyResolver({ proxy: 'http://p:1', env: { no_proxy: 'internal.example, 127.0.0.1:21' } });
    expect(resolver.proxyFor(url('http://files.internal.example/f'))).toBeUndefined();
    expect(resolver.proxyFor(url('ftp://127.0.0.1/f'))).toBeUndefined();
    expect(resolver.proxyFor(url('sftp://127.0.0.1/f'))).toBeDefined();
  });

  it('ignores the environment with useEnv: false', () => {
    const resolver = new ProxyResolver({ useEnv: false, env: { ALL_PROXY: 'socks5://all:1', NO_PROXY: '*' } });
    expect(resolver.proxyFor(url('http://h/f'))).toBeUndefined();
    expect(resolver.configured).toBe(false);
    const explicit = new ProxyResolver({ useEnv: false, proxy: 'http://p:1', env: { NO_PROXY: '*' } });
    expect(explicit.proxyFor(url('http://h/f'))?.host).toBe('p');
  });

  it('fails when the variable that applies is malformed, instead of going direct', () => {
    const resolver = new ProxyResolver({ env: { ALL_PROXY: 'socks4://user:secret@h:1' } });
    expect(() => resolver.proxyFor(url('sftp://h/f'))).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_OPTION', message: expect.stringContaining('ALL_PROXY') }));
    expect(() => resolver.proxyFor(url('sftp://h/f'))).toThrow(expect.not.objectContaining({ message: expect.stringContaining('secret') }));
  });

  it('fails at once for a malformed explicit proxy', () => {
    expect(() => new ProxyResolver({ proxy: 'gopher://h:70' })).toThrow(expect.objectContaining({ code: 'MG_ERR_INVALID_OPTION' }));
  });
});
