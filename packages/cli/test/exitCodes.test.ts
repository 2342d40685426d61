import { ErrorCodes } from '@multiget/core';
import { describe, expect, it } from 'vitest';
import { EXIT_CODE_TABLE, ExitCode, exitCodeForError, exitCodeOf } from '../src/index.js';

describe('exit codes', () => {
  it('maps every error code of the core to its documented exit code', () => {
    const expected: Record<string, number> = {
      MG_ERR_INVALID_URL: 2, MG_ERR_UNSUPPORTED_PROTOCOL: 2, MG_ERR_INVALID_OPTION: 2, MG_ERR_INVALID_CHECKSUM: 2, MG_ERR_INVALID_METALINK: 2, MG_ERR_MIRROR_FAILED: 3,
      MG_ERR_CONNECT: 3, MG_ERR_CONNECT_TIMEOUT: 3, MG_ERR_CONNECTION_RESET: 3, MG_ERR_TIMEOUT: 3, MG_ERR_STALLED: 3,
      MG_ERR_SHORT_BODY: 3, MG_ERR_PROXY: 3, MG_ERR_PROXY_AUTH: 4,
      MG_ERR_HTTP_STATUS: 4, MG_ERR_NOT_FOUND: 4, MG_ERR_AUTH: 4, MG_ERR_FORBIDDEN: 4, MG_ERR_LINK_EXPIRED: 4, MG_ERR_SERVER_BUSY: 4,
      MG_ERR_SERVER: 4, MG_ERR_RANGE_IGNORED: 4, MG_ERR_RANGE_NOT_SATISFIABLE: 4, MG_ERR_BAD_CONTENT_RANGE: 4,
      MG_ERR_ENCODED_RANGE: 4, MG_ERR_TOO_MANY_REDIRECTS: 4, MG_ERR_BAD_REDIRECT: 4, MG_ERR_PROTOCOL: 4,
      MG_ERR_CHECKSUM_MISMATCH: 5, MG_ERR_REMOTE_CHANGED: 6, MG_ERR_FILE_EXISTS: 7,
      MG_ERR_NOT_WRITABLE: 8, MG_ERR_NO_SPACE: 8, MG_ERR_UNSAFE_PATH: 8, MG_ERR_IO: 8,
      MG_ERR_TLS: 9, MG_ERR_HOST_KEY_UNKNOWN: 9, MG_ERR_HOST_KEY_CHANGED: 9,
      MG_ERR_STATE_LOCKED: 8, MG_ERR_UNKNOWN_DOWNLOAD: 2, MG_ERR_INVALID_STATE: 2,
      MG_ERR_ABORTED: 1, MG_ERR_INTERNAL: 1,
    };
    for (const code of Object.values(ErrorCodes)) {
      // A new core code needs a decision here (and in the README), not a silent exit code 1.
      expect(expected[code], `${code} has an expected exit code in this test`).toBeDefined();
      expect(exitCodeForError(code), code).toBe(expected[code]);
    }
    expect(exitCodeForError('MG_ERR_FROM_THE_FUTURE')).toBe(1);
  });

  it('lists every exit code once in the help table', () => {
    const codes = EXIT_CODE_TABLE.map(([c]) => c);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort((a, b) => a - b)).toEqual(Object.values(ExitCode).sort((a, b) => a - b));
  });

  it('takes the first failure in input order with several downloads', () => {
    const task = (index: number) => ({ index, id: String(index), url: 'u', parsedUrl: new URL('http://u/'), label: 'u', options: {} });
    const err = (code: string) => Object.assign(new Error(code), { code }) as never;
    expect(exitCodeOf([])).toBe(0);
    expect(
      exitCodeOf([
        { task: task(0), status: 'done', result: {} as never },
        { task: task(1), status: 'failed', error: err('MG_ERR_NOT_FOUND') },
        { task: task(2), status: 'failed', error: err('MG_ERR_CONNECT') },
      ]),
    ).toBe(4);
  });
});
