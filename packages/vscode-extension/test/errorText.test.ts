import { describe, expect, it } from 'vitest';
import { describeFailure, hostKeyFingerprint } from '../src/model/errorText';

const URL_ = 'https://files.example:8443/a.iso';

describe('describeFailure', () => {
  it('words a refused connection plainly, with errno and code beside', () => {
    const f = describeFailure({ code: 'MG_ERR_CONNECT', message: 'Cannot connect: connect ECONNREFUSED 127.0.0.1:8443' }, URL_);
    expect(f.text).toBe('files.example:8443 refused the connection: nothing is listening there (is the server running, is the port right?).');
    expect(f.codes).toBe('ECONNREFUSED · MG_ERR_CONNECT');
    expect(f.line).toBe(`${f.text} (${f.codes})`);
    expect(f.detail).toMatch(/ECONNREFUSED 127/);
    expect(f.remedies).toEqual(['retry']);
  });
  it('words an unknown host name', () => {
    const f = describeFailure({ code: 'MG_ERR_CONNECT', message: 'Cannot connect: getaddrinfo ENOTFOUND nope.invalid' }, 'http://nope.invalid/x');
    expect(f.line).toBe('The host name nope.invalid could not be found (check the spelling, or the network/DNS). (ENOTFOUND · MG_ERR_CONNECT)');
  });
  it('words time-outs', () => {
    expect(describeFailure({ code: 'MG_ERR_CONNECT_TIMEOUT', message: 'Connecting to h timed out' }, URL_).codes).toBe('ETIMEDOUT · MG_ERR_CONNECT_TIMEOUT');
    expect(describeFailure({ code: 'MG_ERR_TIMEOUT', message: 'Timed out: read ETIMEDOUT' }, URL_).line).toBe('files.example:8443 stopped sending data. (ETIMEDOUT · MG_ERR_TIMEOUT)');
  });
  it('words certificate errors by their code', () => {
    const cases: Array<[string, RegExp]> = [
      ['CERT_HAS_EXPIRED', /has expired/],
      ['DEPTH_ZERO_SELF_SIGNED_CERT', /self-signed certificate/],
      ['SELF_SIGNED_CERT_IN_CHAIN', /self-signed certificate/],
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /authority this machine does not trust/],
      ['ERR_TLS_CERT_ALTNAME_INVALID', /for a different host name/],
    ];
    for (const [cert, words] of cases) {
      const f = describeFailure({ code: 'MG_ERR_TLS', message: `TLS failed for ${URL_}: something (${cert})` }, URL_);
      expect(f.text, cert).toMatch(words);
      expect(f.codes).toBe(`${cert} · MG_ERR_TLS`);
    }
    expect(describeFailure({ code: 'MG_ERR_TLS', message: 'TLS failed: handshake' }, URL_).codes).toBe('MG_ERR_TLS');
  });
  it('offers credentials for 401 and 403, not for a proxy 407', () => {
    const unauthorized = describeFailure({ code: 'MG_ERR_AUTH', message: `HTTP 401 Unauthorized for ${URL_}` }, URL_);
    expect(unauthorized.line).toBe('files.example:8443 asks for credentials, and none (or wrong ones) were given. (HTTP 401 · MG_ERR_AUTH)');
    expect(unauthorized.remedies[0]).toBe('setCredentials');
    const forbidden = describeFailure({ code: 'MG_ERR_FORBIDDEN', message: `HTTP 403 Forbidden for ${URL_}` }, URL_);
    expect(forbidden.codes).toBe('HTTP 403 · MG_ERR_FORBIDDEN');
    expect(forbidden.remedies[0]).toBe('setCredentials');
    const proxy = describeFailure({ code: 'MG_ERR_AUTH', message: `The proxy refused ${URL_} with HTTP 407` }, URL_);
    expect(proxy.remedies).toEqual(['retry']);
    expect(proxy.text).toMatch(/proxy/);
    const ftp = describeFailure({ code: 'MG_ERR_AUTH', message: 'Login to ftp://h/ failed: 530 Login incorrect' }, 'ftp://h/f');
    expect(ftp.codes).toBe('MG_ERR_AUTH');
    expect(ftp.remedies[0]).toBe('setCredentials');
  });
  it('words 404 and 410', () => {
    expect(describeFailure({ code: 'MG_ERR_NOT_FOUND', message: `HTTP 404 Not Found for ${URL_}` }, URL_).line).toBe('The file was not found on files.example:8443 (check the URL). (HTTP 404 · MG_ERR_NOT_FOUND)');
    expect(describeFailure({ code: 'MG_ERR_NOT_FOUND', message: `HTTP 410 Gone for ${URL_}` }, URL_).text).toMatch(/gone/);
  });
  it('offers to trust an unknown SFTP host key, and nothing for a changed one', () => {
    expect(describeFailure({ code: 'MG_ERR_HOST_KEY_UNKNOWN', message: 'x' }, 'sftp://h:2222/f').remedies).toEqual(['trustHostKey']);
    const changed = describeFailure({ code: 'MG_ERR_HOST_KEY_CHANGED', message: 'x' }, 'sftp://h/f');
    expect(changed.remedies).toEqual([]);
    expect(changed.text).toMatch(/CHANGED/);
  });
  it('keeps the engine message for a code it has no words for, and names the server without a URL', () => {
    expect(describeFailure({ code: 'MG_ERR_RANGE_IGNORED', message: 'The server ignored ranges' }).line).toBe('The server ignored ranges (MG_ERR_RANGE_IGNORED)');
    expect(describeFailure({ code: 'MG_ERR_CONNECT', message: 'Cannot connect' }).text).toBe('Could not connect to the server.');
  });
});

describe('hostKeyFingerprint', () => {
  it('finds the SHA256 fingerprint in a host-key message', () => {
    const fp = 'SHA256:' + 'A'.repeat(43);
    expect(hostKeyFingerprint(`the server presents ssh-ed25519 ${fp}, which is in none of ~/.ssh/known_hosts`)).toBe(fp);
    expect(hostKeyFingerprint('no fingerprint')).toBeUndefined();
  });
});
