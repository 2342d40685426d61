import { describe, expect, it } from 'vitest';
import { Multiget, NetworkError, redactFields, redactHeaders, redactText, redactUrl, withoutUserinfo } from '../src/index.js';

describe('redactUrl', () => {
  it('removes user name, password and fragment', () => {
    expect(redactUrl('http://user:secret@host/path?q=1#frag')).toBe('http://host/path?q=1');
    expect(redactUrl(new URL('ftp://anon:pw@[::1]:2121/a/b.bin'))).toBe('ftp://[::1]:2121/a/b.bin');
  });

  it('masks the values of query parameters that carry signatures and tokens, keeping the others as written', () => {
    const signed =
      'https://bucket.s3.amazonaws.com/f.iso?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260101%2Fus&X-Amz-Date=20260101T000000Z' +
      '&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=deadbeef&X-Amz-Security-Token=tok%2B1&name=a+b%20c';
    expect(redactUrl(signed)).toBe(
      'https://bucket.s3.amazonaws.com/f.iso?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***&X-Amz-Date=20260101T000000Z' +
        '&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=***&X-Amz-Security-Token=***&name=a+b%20c',
    );
    // Azure SAS, CloudFront, GCS, OAuth and API keys.
    expect(redactUrl('https://a.blob.core.windows.net/c/f?sv=2024&se=2026&sp=r&sig=abc%3D')).toBe('https://a.blob.core.windows.net/c/f?sv=2024&se=2026&sp=r&sig=***');
    expect(redactUrl('https://d.cloudfront.net/f?Expires=1&Signature=xyz&Key-Pair-Id=K1&Policy=p')).toBe(
      'https://d.cloudfront.net/f?Expires=1&Signature=***&Key-Pair-Id=K1&Policy=***',
    );
    expect(redactUrl('https://h/f?X-Goog-Credential=c&X-Goog-Signature=s')).toBe('https://h/f?X-Goog-Credential=***&X-Goog-Signature=***');
    expect(redactUrl('https://h/f?access_token=t1&token=t2&api_key=k&apikey=k2&key=k3&client_secret=s&password=p&code=c')).toBe(
      'https://h/f?access_token=***&token=***&api_key=***&apikey=***&key=***&client_secret=***&password=***&code=***',
    );
  });

  it('returns a clean URL unchanged and is idempotent', () => {
    expect(redactUrl('https://h.example/a%20b/f.iso?v=1&name=x')).toBe('https://h.example/a%20b/f.iso?v=1&name=x');
    const once = redactUrl('https://u:p@h/f?sig=1#x');
    expect(redactUrl(once)).toBe(once);
  });

  it('cleans text that is not a valid URL', () => {
    expect(redactUrl('http://u:p@[bad/f?token=abc&x=1#frag')).toBe('http://[bad/f?token=***&x=1');
  });

  it('withoutUserinfo keeps the query whole (what goes on the wire)', () => {
    expect(withoutUserinfo(new URL('https://u:p@h/f?X-Amz-Signature=abc#t')).href).toBe('https://h/f?X-Amz-Signature=abc');
  });
});

describe('redactText', () => {
  it('redacts the URLs inside a message and leaves clean ones exactly as written', () => {
    expect(redactText('GET https://u:pw@h/f?sig=s1 failed, see http://other/x?y=1.')).toBe('GET https://h/f?sig=*** failed, see http://other/x?y=1.');
  });

  it('masks secret parameters of query strings outside a full URL (a relative Location)', () => {
    expect(redactText('/f.bin?X-Amz-Credential=AKIA&X-Amz-Date=1&X-Amz-Signature=abc;sig=x')).toBe('/f.bin?X-Amz-Credential=***&X-Amz-Date=1&X-Amz-Signature=***;sig=***');
    expect(redactText('a=b&c=d token ?q=1')).toBe('a=b&c=d token ?q=1');
  });

  it('cuts Authorization, Cookie and bearer tokens quoted in text', () => {
    // The rest of the value is cut (up to a comma, semicolon or line end): a header value has spaces.
    expect(redactText('sent Authorization: Basic dXNlcjpwYXNz\nnext')).toBe('sent Authorization: ***\nnext');
    expect(redactText('with cookie=a=b; Proxy-Authorization = Digest x y, ok')).toBe('with cookie=***; Proxy-Authorization = ***, ok');
    expect(redactText('token Bearer abcdefghijklmnop rejected')).toBe('token Bearer *** rejected');
  });
});

describe('redactHeaders and redactFields', () => {
  it('masks secret headers whatever their case', () => {
    expect(
      redactHeaders({ Authorization: 'Bearer x', 'proxy-authorization': 'Basic y', Cookie: 'a=b', 'X-Api-Key': 'k', 'Set-Cookie': ['s=1'], Accept: '*/*', Range: 'bytes=0-' }),
    ).toEqual({ Authorization: '***', 'proxy-authorization': '***', Cookie: '***', 'X-Api-Key': '***', 'Set-Cookie': '***', Accept: '*/*', Range: 'bytes=0-' });
    expect(redactHeaders([['x-auth-token', 't']])).toEqual({ 'x-auth-token': '***' });
  });

  it('masks secret fields at any depth, redacts URLs, errors and text, and keeps error codes', () => {
    const err = new NetworkError('MG_ERR_STALLED', 'No data from https://u:p@h/f?token=t');
    const out = redactFields({
      download: 'id1',
      code: 'MG_ERR_AUTH',
      url: new URL('https://u:p@h/f?sig=1'),
      headers: { authorization: 'Basic abc', accept: 'x' },
      credentials: { username: 'u', password: 'p' },
      nested: { deeper: { passphrase: 'pp', host: 'h' } },
      error: err,
      body: Buffer.from('abc'),
      list: ['https://h/?key=1'],
      gone: undefined,
    });
    expect(out).toEqual({
      download: 'id1',
      code: 'MG_ERR_AUTH',
      url: 'https://h/f?sig=***',
      headers: { authorization: '***', accept: 'x' },
      credentials: '***',
      nested: { deeper: { passphrase: '***', host: 'h' } },
      error: { name: 'NetworkError', code: 'MG_ERR_STALLED', message: 'No data from https://h/f?token=***' },
      body: '<3 bytes>',
      list: ['https://h/?key=***'],
    });
  });
});

describe('the engine', () => {
  it('never echoes a password or signature of a URL it cannot parse', () => {
    expect(() => new Multiget().download('http://u:hunter2@[bad/f?sig=s3cr3t')).toThrow(
      expect.objectContaining({ code: 'MG_ERR_INVALID_URL', message: 'Invalid URL "http://[bad/f?sig=***"' }),
    );
  });
});
