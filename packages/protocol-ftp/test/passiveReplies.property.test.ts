// Property-based test of the replies that open a data connection (EPSV, PASV), through real
// sockets: a scripted control server answers them with generated text, and the plugin must end
// in a DownloadError whatever they say. basic-ftp parses these replies; this checks that nothing
// it throws on them escapes unmapped.
import net from 'node:net';
import { isDownloadError, ErrorCodes } from '@multiget/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FtpPlugin } from '../src/index.js';
import { makeJob, rejection } from './helpers.js';

/** The reply to EPSV and to PASV of the next control connection. */
let replies = { epsv: '', pasv: '' };
let server: net.Server;
let port = 0;
/** A loopback port nothing listens on: every data connection a reply names is sent here. */
let closedPort = 0;

/**
 * The data connection basic-ftp would open for a reply, by its own parsing rules; undefined when it
 * would open none. Used only to point every such connection at `closedPort`: a generated reply must
 * never make the test connect to some other program's port on this machine.
 */
function epsvTarget(reply: string): number | undefined {
  const groups = /[|!]{3}(.+)[|!]/.exec(reply);
  if (groups?.[1] === undefined) return undefined;
  const n = Number.parseInt(groups[1], 10);
  return Number.isNaN(n) ? undefined : n;
}
function pasvTarget(reply: string): string | undefined {
  const groups = /(?<![-\d])([-\d]+,[-\d]+,[-\d]+,[-\d]+),([-\d]+),([-\d]+)/.exec(reply);
  return groups?.[1]?.replace(/,/g, '.');
}
function safeEpsv(reply: string): string {
  const target = epsvTarget(reply);
  // A port no socket can have (0, negative, above 65535) goes through: it reaches no program.
  return target === undefined || target < 1 || target > 65535 ? reply : `229 Entering Extended Passive Mode (|||${closedPort}|)`;
}
function safePasv(reply: string): string {
  const host = pasvTarget(reply);
  if (host === undefined || !(host === '::1' || host.startsWith('127.'))) return reply;
  return `227 Entering Passive Mode (127,0,0,1,${closedPort >> 8},${closedPort & 255})`;
}

function answer(line: string): string {
  const verb = line.split(' ')[0]!.toUpperCase();
  switch (verb) {
    case 'USER':
      return '331 password please';
    case 'PASS':
      return '230 logged in';
    case 'FEAT':
      return '211-Features:\r\n SIZE\r\n MDTM\r\n REST STREAM\r\n EPSV\r\n211 End';
    case 'TYPE':
    case 'OPTS':
    case 'STRU':
      return '200 ok';
    case 'SIZE':
      return '213 1000';
    case 'MDTM':
      return '213 20240101120000';
    case 'EPSV':
      return safeEpsv(replies.epsv);
    case 'PASV':
      return safePasv(replies.pasv);
    case 'REST':
      return '350 restarting';
    case 'RETR':
      return '425 no data connection';
    case 'QUIT':
      return '221 bye';
    default:
      return '502 not implemented';
  }
}

beforeAll(async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write('220 scripted\r\n');
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (let eol = buffered.indexOf('\r\n'); eol !== -1; eol = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, eol);
        buffered = buffered.slice(eol + 2);
        // Generated replies may hold line breaks of their own: they go out as they are.
        if (!socket.destroyed) socket.write(`${answer(line)}\r\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const PIECES = ['229 ', '227 ', '229-', '(', ')', '|||', '|', '!!!', '!', ',', '-', '127', '0', '1', '255', '256', '65535', '65536', '99999999999', '-1', 'x', ' ', '\r\n', 'Entering Passive Mode'];
// Mostly behind a reply code, so basic-ftp gets to parse them; a reply it cannot read at all is
// only a timeout, which a few cases cover.
const replyBody = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 60 }),
  fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 3 })), { minLength: 1, maxLength: 16 }).map((p) => p.join('')),
);
const anyInt = fc.oneof(fc.integer({ min: -300, max: 70_000 }), fc.constantFrom(0, 255, 256, 65535, 65536, 2 ** 31, 2 ** 53));
const wellFormedish = fc.oneof(
  fc.tuple(anyInt, fc.constantFrom('|||', '!!!', '||', '|||x')).map(([n, sep]) => `229 Entering Extended Passive Mode (${sep}${n}|)`),
  fc.array(anyInt, { minLength: 6, maxLength: 6 }).map((n) => `227 Entering Passive Mode (${n.join(',')})`),
);
const replyText = fc.oneof(
  { arbitrary: wellFormedish, weight: 4 },
  { arbitrary: fc.tuple(fc.constantFrom('229 ', '227 ', '200 ', '500 ', '425 ', '229-'), replyBody).map(([code, body]) => code + body.replace(/[\r\n]/g, ' ')), weight: 5 },
  { arbitrary: replyBody, weight: 1 },
);

describe('EPSV and PASV replies (property)', () => {
  it('whatever they say, the probe ends in a DownloadError (never an unmapped error)', async () => {
    await fc.assert(
      fc.asyncProperty(replyText, replyText, async (epsv, pasv) => {
        replies = { epsv, pasv };
        const ftp = new FtpPlugin({ timeoutMs: 250 });
        try {
          const err = await rejection(ftp.probe(makeJob(`ftp://127.0.0.1:${port}/file.bin`, { connectTimeoutMs: 1000 })));
          expect(isDownloadError(err)).toBe(true);
          expect(err.code).not.toBe(ErrorCodes.INTERNAL);
        } finally {
          await ftp.close();
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
