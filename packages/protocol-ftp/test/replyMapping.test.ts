import { FTPError } from 'basic-ftp';
import { describe, expect, it } from 'vitest';
import { ftpFailure, replyError, scrub, type FtpFailureContext } from '../src/index.js';

const ctx: FtpFailureContext = { where: 'ftp://h/f', step: 'command', secrets: ['s3cret-pw', 'alice'] };

describe('reply codes to error codes', () => {
  const cases: Array<[number, string, string, boolean]> = [
    [530, '530 Login incorrect.', 'MG_ERR_AUTH', false],
    [332, '332 Need account for login.', 'MG_ERR_AUTH', false],
    [550, '550 Failed to open file.', 'MG_ERR_NOT_FOUND', false],
    [550, '550 Permission denied.', 'MG_ERR_FORBIDDEN', false],
    [421, '421 Too many connections.', 'MG_ERR_SERVER_BUSY', true],
    [450, '450 File busy.', 'MG_ERR_SERVER_BUSY', true],
    [425, "425 Can't open data connection.", 'MG_ERR_CONNECTION_RESET', true],
    [426, '426 Connection closed; transfer aborted.', 'MG_ERR_CONNECTION_RESET', true],
    [451, '451 Local error in processing.', 'MG_ERR_SERVER', true],
    [452, '452 Insufficient storage.', 'MG_ERR_SERVER', true],
    [500, '500 Syntax error.', 'MG_ERR_PROTOCOL', false],
    [553, '553 Not allowed.', 'MG_ERR_PROTOCOL', false],
  ];
  for (const [code, message, expected, retryable] of cases) {
    it(`${code} → ${expected}`, () => {
      const err = replyError(code, message, ctx);
      expect(err.code).toBe(expected);
      expect(err.ftpCode).toBe(code);
      expect(err.retryable).toBe(retryable);
      expect(err.url).toBe('ftp://h/f');
    });
  }

  it('makes any refusal during TLS negotiation MG_ERR_TLS (no downgrade), but keeps 421 busy', () => {
    for (const code of [500, 502, 504, 530, 534, 431]) {
      expect(replyError(code, `${code} no`, { ...ctx, step: 'tls' }).code).toBe('MG_ERR_TLS');
    }
    expect(replyError(421, '421 bye', { ...ctx, step: 'tls' }).code).toBe('MG_ERR_SERVER_BUSY');
  });

  it('scrubs credentials a server echoes in its reply', () => {
    const err = replyError(530, '530 User alice with password s3cret-pw cannot log in.', ctx);
    expect(err.message).not.toContain('alice');
    expect(err.message).not.toContain('s3cret-pw');
    expect(err.message).toContain('530');
  });
});

describe('ftpFailure', () => {
  it('maps basic-ftp FTPErrors by their reply code', () => {
    const err = ftpFailure(new FTPError({ code: 550, message: '550 No such file.' }), ctx);
    expect(err).toMatchObject({ code: 'MG_ERR_NOT_FOUND', ftpCode: 550 });
  });

  it('maps socket errors through their errno', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(ftpFailure(refused, { ...ctx, step: 'connect' })).toMatchObject({ code: 'MG_ERR_CONNECT', errno: 'ECONNREFUSED' });
    const reset = Object.assign(new Error('read ECONNRESET (data socket)'), { code: 'ECONNRESET' });
    expect(ftpFailure(reset, ctx)).toMatchObject({ code: 'MG_ERR_CONNECTION_RESET', errno: 'ECONNRESET' });
  });

  it('maps certificate and handshake failures to MG_ERR_TLS', () => {
    const cert = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(ftpFailure(cert, ctx)).toMatchObject({ code: 'MG_ERR_TLS', errno: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    const alert = Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER', library: 'SSL routines' });
    expect(ftpFailure(alert, ctx).code).toBe('MG_ERR_TLS');
  });

  it("recognises basic-ftp's text-only errors", () => {
    expect(ftpFailure(new Error('Timeout (control socket)'), ctx).code).toBe('MG_ERR_TIMEOUT');
    expect(ftpFailure(new Error('Timeout (control socket)'), { ...ctx, step: 'connect' }).code).toBe('MG_ERR_CONNECT_TIMEOUT');
    expect(ftpFailure(new Error('Server sent FIN packet unexpectedly, closing connection.'), ctx).code).toBe('MG_ERR_CONNECTION_RESET');
    const bounce = new Error(
      "None of the available transfer strategies work. Last error response was 'Error: PASV returned another host (10.9.8.7) for data transfer that you have connected to (127.0.0.1). ...'",
    );
    expect(ftpFailure(bounce, ctx)).toMatchObject({ code: 'MG_ERR_PROTOCOL' });
    expect(ftpFailure(bounce, ctx).message).toContain('10.9.8.7');
    const embedded = new Error("None of the available transfer strategies work. Last error response was 'FTPError: 421 Service not available'");
    expect(ftpFailure(embedded, ctx)).toMatchObject({ code: 'MG_ERR_SERVER_BUSY', ftpCode: 421 });
  });

  it('returns the abort reason once the signal aborted, whatever was thrown', () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    expect(ftpFailure(new Error('User closed client during task'), ctx, controller.signal).code).toBe('MG_ERR_ABORTED');
  });

  it('never lets a secret through a socket error message', () => {
    const err = ftpFailure(Object.assign(new Error('boom for alice'), { code: 'EPIPE' }), ctx);
    expect(err.message).not.toContain('alice');
  });
});

describe('scrub', () => {
  it('replaces secrets of three characters or more', () => {
    expect(scrub('user bob pw hunter2', ['hunter2', 'bob'])).toBe('user *** pw ***');
    expect(scrub('a b', ['a'])).toBe('a b');
  });
});
