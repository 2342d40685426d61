import { once } from 'node:events';
import type { Socket } from 'node:net';
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { contentSize, readContent } from '../generatedContent.js';
import { TokenBucket } from '../TokenBucket.js';
import type { FileContent } from '../content.js';
import { mdtmTime, type FtpFile } from './FtpFile.js';
import { PassiveListener, plainAddress } from './PassiveListener.js';
import type { FtpCommandRecord, FtpServerFaults, FtpTransferRecord } from './types.js';

/** Write size of a transfer: big enough for loopback speed, small enough to pace. */
const SLICE = 256 * 1024;
/** How long RETR waits for the client's data connection (and its TLS handshake). */
const DATA_TIMEOUT_MS = 10_000;
/** A command line longer than this is refused and the connection closed (RFC 959 has no limit; be safe). */
const MAX_LINE = 8 * 1024;
/** Commands allowed before login. */
const BEFORE_LOGIN = new Set(['USER', 'PASS', 'AUTH', 'PBSZ', 'PROT', 'FEAT', 'SYST', 'QUIT', 'NOOP', 'OPTS']);
/** Commands handled at once even while a transfer blocks the others (RFC 959 §4.1.3). */
const OUT_OF_BAND = new Set(['ABOR', 'QUIT', 'STAT']);

/** One entry of a folder listing. */
export interface ListedEntry {
  name: string;
  directory: boolean;
  size: number;
  mtimeMs: number;
}

/** What a control connection needs from its server. */
export interface FtpHost {
  readonly tlsMode: 'explicit' | 'implicit' | undefined;
  readonly secureContext: tls.SecureContext | undefined;
  readonly anonymous: boolean;
  faults(): FtpServerFaults;
  file(path: string): FtpFile | undefined;
  isDirectory(path: string): boolean;
  /** The entries of a folder, sorted by name; undefined when `path` is not a folder. */
  list(path: string): ListedEntry[] | undefined;
  checkLogin(user: string, password: string): boolean;
  logCommand(record: FtpCommandRecord): void;
  logTransfer(record: FtpTransferRecord): void;
  transferStarted(path: string): void;
  transferEnded(path: string): void;
  sent(path: string, bytes: number): void;
  track(socket: Socket): void;
}

/** Why a transfer stopped before its end. */
type StopReason = 'client' | 'abor' | 'server';

interface ActiveTransfer {
  readonly controller: AbortController;
  readonly record: FtpTransferRecord;
  /** Resolves once RETR has sent its final reply. */
  readonly finished: Promise<void>;
  stopReason: StopReason | undefined;
}

/** Removes Telnet IAC sequences (IP, Synch ...) that clients put before an urgent ABOR. */
function stripTelnet(raw: Buffer): Buffer {
  if (!raw.includes(0xff)) return raw;
  const out: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i] ?? 0;
    if (byte === 0xff) {
      i++;
      continue;
    }
    out.push(byte);
  }
  return Buffer.from(out);
}

/** Resolves never; rejects when `signal` aborts. */
/**
 * The `endlessListings` fault: `first`, then lines of generated files (`endless-N.bin`) for as long
 * as the client reads, until it closes the data connection.
 */
async function endlessListing(socket: Socket, first: string, format: 'mlsd' | 'unix'): Promise<void> {
  socket.on('error', () => undefined);
  const closed = (): boolean => socket.destroyed || socket.writableEnded;
  // Resolves on the next drain or on the close, whichever comes first.
  const writable = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  let next = 0;
  let chunk = first;
  while (!closed()) {
    if (!socket.write(chunk) && !closed()) await writable();
    chunk = '';
    for (let i = 0; i < 200; i++, next++) {
      const name = `endless-${next}.bin`;
      chunk += format === 'mlsd' ? `type=file;size=1;modify=20240101000000; ${name}\r\n` : `-rw-r--r--    1 ftp      ftp             1 Jan 01 00:00 ${name}\r\n`;
    }
  }
}

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * One client of the FTP test server: reads command lines, answers them in order (a RETR holds the
 * queue until its transfer ends, as real servers do; ABOR, QUIT and STAT get through at once),
 * and runs passive-mode transfers with the file's faults.
 */
export class FtpControlConnection {
  private socket: Socket;
  private pending: Buffer = Buffer.alloc(0);
  private queue: Promise<void> = Promise.resolve();
  private upgrading = false;
  /** Set once the connection is being closed for a protocol violation: nothing more is read. */
  private refused = false;
  private secure: boolean;
  private protectData = false;
  private user: string | undefined;
  private loggedIn = false;
  private cwd = '/';
  private restart = 0;
  private passive: PassiveListener | undefined;
  private transfer: ActiveTransfer | undefined;
  private closed = false;

  constructor(
    private readonly host: FtpHost,
    socket: Socket,
    /** 1 for the first accepted connection, and so on. */
    readonly id: number,
  ) {
    this.socket = socket;
    this.secure = socket instanceof tls.TLSSocket;
    this.listen(socket);
  }

  /** Sends the greeting (or a 421 and closes, when the server is over its connection limit). */
  greet(busy: boolean): void {
    if (busy) {
      this.write('421 Too many connections, try again later.\r\n');
      this.socket.end();
      return;
    }
    this.write('220 multiget test FTP server ready.\r\n');
  }

  /** Ends everything this connection holds: transfer, passive listener, sockets. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopTransfer('server');
    this.passive?.destroy();
    this.passive = undefined;
    this.socket.destroy();
  }

  private listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!this.upgrading) this.destroy();
    });
  }

  private write(text: string): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(text);
  }

  private onData(chunk: Buffer): void {
    if (this.upgrading || this.refused) return;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (let nl = this.pending.indexOf(0x0a); nl !== -1; nl = this.pending.indexOf(0x0a)) {
      const raw = stripTelnet(this.pending.subarray(0, nl));
      this.pending = this.pending.subarray(nl + 1);
      if (raw.length > MAX_LINE) {
        this.refuseLongLine();
        return;
      }
      const line = raw.toString('utf8').replace(/\r$/, '');
      this.dispatch(line);
      if (this.upgrading) {
        // Bytes after AUTH TLS were sent in clear text: never run them as commands (a STARTTLS
        // injection would otherwise execute them as if they came through the TLS session).
        this.pending = Buffer.alloc(0);
        return;
      }
    }
    if (this.pending.length > MAX_LINE) this.refuseLongLine();
  }

  private refuseLongLine(): void {
    this.write('500 Command line too long.\r\n');
    this.socket.end();
    this.pending = Buffer.alloc(0);
    this.refused = true;
  }

  private dispatch(line: string): void {
    const space = line.indexOf(' ');
    const command = (space === -1 ? line : line.slice(0, space)).toUpperCase();
    const argument = space === -1 ? '' : line.slice(space + 1);
    if (command === '') return;
    const record: FtpCommandRecord = {
      connectionId: this.id,
      command,
      argument: command === 'PASS' ? '****' : argument,
      replies: [],
      tls: this.secure,
    };
    if (command === 'AUTH') this.upgrading = this.host.tlsMode === 'explicit' && !this.secure && !this.host.faults().refuseAuthTls;
    if (this.transfer !== undefined && OUT_OF_BAND.has(command)) {
      this.host.logCommand(record);
      void this.execute(record, argument).catch(() => this.destroy());
      return;
    }
    this.queue = this.queue
      .then(async () => {
        if (this.closed) return;
        this.host.logCommand(record);
        await this.execute(record, argument);
      })
      .catch(() => this.destroy());
  }

  private reply(record: FtpCommandRecord, code: number, text: string | string[]): void {
    record.replies.push(code);
    if (typeof text === 'string') {
      this.write(`${code} ${text}\r\n`);
      return;
    }
    const lines = text.slice(0, -1).map((l, i) => (i === 0 ? `${code}-${l}` : ` ${l}`));
    this.write([...lines, `${code} ${text[text.length - 1] ?? ''}`].join('\r\n') + '\r\n');
  }

  private resolve(argument: string): string {
    return posix.normalize(argument.startsWith('/') ? argument : posix.join(this.cwd, argument));
  }

  private async execute(r: FtpCommandRecord, arg: string): Promise<void> {
    const faults = this.host.faults();
    if (!this.loggedIn && !BEFORE_LOGIN.has(r.command)) {
      this.reply(r, 530, 'Please login with USER and PASS.');
      return;
    }
    switch (r.command) {
      case 'USER':
        if (this.loggedIn) return this.reply(r, 530, "Can't change to another user.");
        this.user = arg;
        return this.reply(r, 331, 'Please specify the password.');
      case 'PASS': {
        if (this.loggedIn) return this.reply(r, 230, 'Already logged in.');
        const user = this.user;
        this.user = undefined;
        if (user === undefined) return this.reply(r, 503, 'Login with USER first.');
        const anonymous = this.host.anonymous && (user === 'anonymous' || user === 'ftp');
        if (!anonymous && !this.host.checkLogin(user, arg)) return this.reply(r, 530, 'Login incorrect.');
        this.loggedIn = true;
        return this.reply(r, 230, 'Login successful.');
      }
      case 'AUTH':
        return await this.auth(r, arg, faults);
      case 'PBSZ':
        if (!this.secure) return this.reply(r, 503, 'PBSZ needs a secure connection.');
        return this.reply(r, 200, 'PBSZ=0');
      case 'PROT': {
        if (!this.secure) return this.reply(r, 503, 'PROT needs a secure connection.');
        const level = arg.trim().toUpperCase();
        if (level !== 'P' && level !== 'C') return this.reply(r, 504, 'Only PROT P and PROT C are supported.');
        this.protectData = level === 'P';
        return this.reply(r, 200, level === 'P' ? 'PROT now Private.' : 'PROT now Clear.');
      }
      case 'FEAT':
        return this.reply(r, 211, ['Features:', ...this.features(faults), 'End']);
      case 'SYST':
        return this.reply(r, 215, 'UNIX Type: L8');
      case 'NOOP':
        return this.reply(r, 200, 'NOOP ok.');
      case 'OPTS':
        if (arg.trim().toUpperCase() === 'UTF8 ON') return this.reply(r, 200, 'Always in UTF8 mode.');
        return this.reply(r, 501, 'Option not understood.');
      case 'QUIT':
        this.stopTransfer('client');
        this.reply(r, 221, 'Goodbye.');
        this.socket.end();
        return;
      case 'STAT':
        return this.reply(r, 211, this.transfer === undefined ? 'No transfer in progress.' : 'Transfer in progress.');
      case 'TYPE': {
        const type = arg.trim().toUpperCase();
        if (type === 'I' || type === 'L 8') return this.reply(r, 200, 'Switching to Binary mode.');
        if (type === 'A' || type === 'A N') return this.reply(r, 200, 'Switching to ASCII mode.');
        return this.reply(r, 504, 'Unrecognised TYPE command.');
      }
      case 'STRU':
        return this.reply(r, arg.trim().toUpperCase() === 'F' ? 200 : 504, 'Structure set to F.');
      case 'MODE':
        return this.reply(r, arg.trim().toUpperCase() === 'S' ? 200 : 504, 'Mode set to S.');
      case 'PWD':
        return this.reply(r, 257, `"${this.cwd.replace(/"/g, '""')}" is the current directory`);
      case 'CWD': {
        const target = this.resolve(arg);
        if (!this.host.isDirectory(target)) return this.reply(r, 550, 'Failed to change directory.');
        this.cwd = target;
        return this.reply(r, 250, 'Directory successfully changed.');
      }
      case 'CDUP':
        this.cwd = posix.dirname(this.cwd);
        return this.reply(r, 250, 'Directory successfully changed.');
      case 'SIZE': {
        if (faults.noSize) return this.reply(r, 502, 'SIZE not implemented.');
        const file = this.host.file(this.resolve(arg));
        if (file === undefined) return this.reply(r, 550, 'Could not get file size.');
        return this.reply(r, 213, String(file.announcedSize));
      }
      case 'MDTM': {
        if (faults.noMdtm) return this.reply(r, 502, 'MDTM not implemented.');
        const file = this.host.file(this.resolve(arg));
        if (file === undefined) return this.reply(r, 550, 'Could not get file modification time.');
        return this.reply(r, 213, mdtmTime(file.mtimeMs));
      }
      case 'REST': {
        if (faults.refuseRest === 'all') return this.reply(r, 502, 'REST not implemented.');
        if (!/^\d{1,15}$/.test(arg.trim())) return this.reply(r, 501, 'Bad REST parameter.');
        const offset = Number(arg.trim());
        if (faults.refuseRest === 'nonzero' && offset > 0) return this.reply(r, 504, 'REST not supported for that offset.');
        this.restart = faults.ignoreRest ? 0 : offset;
        return this.reply(r, 350, `Restart position accepted (${offset}).`);
      }
      case 'EPSV':
        if (faults.refuseEpsv) return this.reply(r, 502, 'EPSV not implemented.');
        if (arg.trim().toUpperCase() === 'ALL') return this.reply(r, 200, 'EPSV ALL ok.');
        await this.openPassive();
        return this.reply(r, 229, `Entering Extended Passive Mode (|||${this.passive?.port ?? 0}|)`);
      case 'PASV': {
        const local = plainAddress(this.socket.localAddress);
        if (local.includes(':')) return this.reply(r, 425, 'PASV is IPv4 only; use EPSV.');
        await this.openPassive();
        const port = this.passive?.port ?? 0;
        const address = (faults.pasvAddress ?? local).split('.').join(',');
        return this.reply(r, 227, `Entering Passive Mode (${address},${port >> 8},${port & 255}).`);
      }
      case 'RETR':
        return await this.retr(r, arg);
      case 'MLSD':
        if (faults.noMlsd) return this.reply(r, 502, 'MLSD not implemented.');
        return await this.sendListing(r, arg, 'mlsd');
      case 'LIST':
        // `LIST -a path`: options as ls takes them; only the path matters here.
        return await this.sendListing(r, arg.replace(/^\s*-[a-zA-Z]+\s*/, ''), 'unix');
      case 'ABOR':
        return await this.abortTransfer(r);
      default:
        return this.reply(r, 502, 'Command not implemented.');
    }
  }

  private features(faults: FtpServerFaults): string[] {
    const list = ['EPSV', 'PASV'];
    if (!faults.noSize) list.push('SIZE');
    if (!faults.noMdtm) list.push('MDTM');
    if (faults.refuseRest !== 'all') list.push('REST STREAM');
    if (!faults.noMlsd) list.push('MLST type*;size*;modify*;');
    list.push('UTF8');
    if (this.host.tlsMode !== undefined) list.push('AUTH TLS', 'PBSZ', 'PROT');
    return list;
  }

  private async auth(r: FtpCommandRecord, arg: string, faults: FtpServerFaults): Promise<void> {
    const mechanism = arg.trim().toUpperCase();
    if (this.host.tlsMode === undefined) return this.reply(r, 502, 'AUTH not supported.');
    if (this.secure) return this.reply(r, 503, 'Already using TLS.');
    if (faults.refuseAuthTls) return this.reply(r, 534, 'Request denied for policy reasons.');
    if (mechanism !== 'TLS' && mechanism !== 'SSL' && mechanism !== 'TLS-C') {
      this.upgrading = false;
      return this.reply(r, 504, 'Unsupported security mechanism.');
    }
    this.reply(r, 234, 'Proceed with negotiation.');
    const raw = this.socket;
    raw.removeAllListeners('data');
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.host.secureContext! });
    this.host.track(secure);
    try {
      await Promise.race([once(secure, 'secure'), sleep(DATA_TIMEOUT_MS).then(() => Promise.reject(new Error('handshake timeout')))]);
    } catch {
      this.destroy();
      return;
    }
    this.socket = secure;
    this.secure = true;
    this.upgrading = false;
    this.listen(secure);
  }

  private async openPassive(): Promise<void> {
    this.passive?.close();
    this.passive = undefined;
    this.passive = await PassiveListener.open(
      plainAddress(this.socket.localAddress),
      this.socket.remoteAddress ?? '',
      (s) => this.host.track(s),
    );
  }

  private stopTransfer(reason: StopReason): void {
    const t = this.transfer;
    if (t === undefined || t.controller.signal.aborted) return;
    t.stopReason = reason;
    t.controller.abort(new Error(`transfer stopped (${reason})`));
  }

  private async retr(r: FtpCommandRecord, arg: string): Promise<void> {
    const listener = this.passive;
    this.passive = undefined;
    const offset = this.restart;
    this.restart = 0;
    if (listener === undefined) return this.reply(r, 425, 'Use PASV or EPSV first.');
    const path = this.resolve(arg);
    const file = this.host.file(path);
    if (file === undefined) {
      listener.close();
      return this.reply(r, 550, 'Failed to open file.');
    }
    const admission = file.admitRetr();
    if (admission.failCode !== undefined) {
      listener.close();
      return this.reply(r, admission.failCode, 'Transient failure (failTimes fault).');
    }
    const content = admission.content;
    // The size announced (SIZE, the 150 reply): with wrongLength more than there is.
    const size = file.announcedSize;
    if (offset > size) {
      listener.close();
      return this.reply(r, 554, 'Restart offset beyond the end of the file.');
    }
    this.reply(r, 150, `Opening BINARY mode data connection for ${arg} (${size} bytes).`);
    const record: FtpTransferRecord = {
      connectionId: this.id,
      path,
      offset,
      bytesSent: 0,
      tls: this.protectData,
      faults: [...admission.faults],
      outcome: 'pending',
    };
    this.host.logTransfer(record);
    const socket = await this.dataConnection(listener);
    if (socket === undefined) {
      record.outcome = 'failed';
      return this.reply(r, 425, 'Failed to establish connection.');
    }
    let finish!: () => void;
    const transfer: ActiveTransfer = {
      controller: new AbortController(),
      record,
      finished: new Promise<void>((resolve) => (finish = resolve)),
      stopReason: undefined,
    };
    const onGone = (): void => this.stopTransfer('client');
    socket.on('close', onGone);
    socket.on('end', onGone);
    socket.on('error', onGone);
    this.transfer = transfer;
    this.host.transferStarted(path);
    try {
      const outcome = await this.pump(socket, file, content, offset, size, transfer);
      record.outcome = outcome;
      if (outcome === 'complete') this.reply(r, 226, 'Transfer complete.');
      else if (outcome === 'cut') this.reply(r, 226, 'Transfer complete.');
      else if (outcome === 'dropped') this.reply(r, 426, 'Connection closed; transfer aborted.');
      else if (transfer.stopReason === 'abor') this.reply(r, 426, 'Transfer aborted.');
      else if (transfer.stopReason === 'client') this.reply(r, 426, 'Failure writing network stream.');
    } finally {
      socket.off('close', onGone);
      socket.off('end', onGone);
      this.transfer = undefined;
      this.host.transferEnded(path);
      finish();
      if (record.outcome !== 'complete' && record.outcome !== 'cut') socket.destroy();
    }
  }

  /**
   * A folder's listing on a data connection: MLSD facts (RFC 3659) or `ls -l` lines, and after
   * them the `extraListLines` fault's lines for that folder, exactly as given.
   */
  private async sendListing(r: FtpCommandRecord, arg: string, format: 'mlsd' | 'unix'): Promise<void> {
    const listener = this.passive;
    this.passive = undefined;
    if (listener === undefined) return this.reply(r, 425, 'Use PASV or EPSV first.');
    const path = this.resolve(arg.trim() === '' ? '.' : arg);
    const entries = this.host.list(path);
    if (entries === undefined) {
      listener.close();
      return this.reply(r, 550, 'Failed to open directory.');
    }
    const lines = entries.map((e) =>
      format === 'mlsd'
        ? `type=${e.directory ? 'dir' : 'file'};size=${e.size};modify=${mdtmTime(e.mtimeMs || Date.now())}; ${e.name}`
        : `${e.directory ? 'd' : '-'}rw-r--r--    1 ftp      ftp      ${String(e.size).padStart(8)} Jan 01 00:00 ${e.name}`,
    );
    lines.push(...(this.host.faults().extraListLines?.[path] ?? []));
    this.reply(r, 150, 'Here comes the directory listing.');
    const socket = await this.dataConnection(listener);
    if (socket === undefined) return this.reply(r, 425, 'Failed to establish connection.');
    const text = lines.map((l) => `${l}\r\n`).join('');
    if (this.host.faults().endlessListings?.includes(path) === true) {
      await endlessListing(socket, text, format);
      return this.reply(r, 426, 'Connection closed; transfer aborted.');
    }
    await new Promise<void>((resolve) => socket.end(text, () => resolve()));
    this.reply(r, 226, 'Directory send OK.');
  }

  /** The accepted data connection, wrapped in TLS under PROT P; undefined when it never came. */
  private async dataConnection(listener: PassiveListener): Promise<Socket | undefined> {
    const raw = await listener.accept(DATA_TIMEOUT_MS);
    if (raw === undefined) return undefined;
    if (!this.protectData) return raw;
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.host.secureContext! });
    this.host.track(secure);
    secure.on('error', () => undefined);
    try {
      await Promise.race([once(secure, 'secure'), sleep(DATA_TIMEOUT_MS).then(() => Promise.reject(new Error('handshake timeout')))]);
      return secure;
    } catch {
      secure.destroy();
      return undefined;
    }
  }

  /** Sends the bytes from `offset`, applying throttle, drop and stall; resolves how it ended. */
  private async pump(
    socket: Socket,
    file: FtpFile,
    content: FileContent,
    offset: number,
    size: number,
    transfer: ActiveTransfer,
  ): Promise<'complete' | 'dropped' | 'cut' | 'aborted'> {
    const { signal } = transfer.controller;
    const record = transfer.record;
    const faults = file.faults;
    const state = file.faultState;
    // With wrongLength the bytes end before the announced size: the transfer stops there, with 226.
    let end = Math.min(size, contentSize(content));
    let ending: 'end' | 'drop' | 'cut' | 'stall' = 'end';
    const drop = state.take('drop', size - offset);
    const cut = drop === undefined ? state.take('cut', size - offset) : undefined;
    const stall = drop === undefined && cut === undefined ? state.take('stall', size - offset) : undefined;
    if (faults.wrongLength !== undefined) record.faults.push('wrongLength');
    if (drop !== undefined) {
      end = offset + drop;
      ending = 'drop';
      record.faults.push('dropAfterBytes');
    } else if (cut !== undefined) {
      end = offset + cut;
      ending = 'cut';
      record.faults.push('cutAfterBytes');
    } else if (stall !== undefined) {
      end = offset + stall;
      ending = 'stall';
      record.faults.push('stallAfterBytes');
    }
    const rate = faults.throttleBytesPerSec;
    if (rate !== undefined) record.faults.push('throttleBytesPerSec');
    const bucket = rate === undefined ? undefined : new TokenBucket(rate, SLICE);
    const step = bucket?.maxWrite ?? SLICE;
    try {
      for (let at = offset; at < end; ) {
        const length = Math.min(step, end - at);
        if (bucket !== undefined) await bucket.take(length, signal);
        signal.throwIfAborted();
        const fits = socket.write(readContent(content, at, at + length));
        at += length;
        record.bytesSent += length;
        this.host.sent(record.path, length);
        if (!fits) await once(socket, 'drain', { signal });
      }
      if (ending === 'stall') await untilAborted(signal);
      // 226 only once every byte is handed to the kernel and the FIN queued behind it.
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        socket.end(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
      return ending === 'drop' ? 'dropped' : ending === 'cut' ? 'cut' : 'complete';
    } catch {
      return 'aborted';
    }
  }

  /** ABOR: stop the transfer, let RETR send its 426, then confirm with 226 (RFC 959 §4.1.3). */
  private async abortTransfer(r: FtpCommandRecord): Promise<void> {
    const t = this.transfer;
    if (t === undefined) return this.reply(r, 225, 'No transfer to ABOR.');
    this.stopTransfer('abor');
    await t.finished;
    this.reply(r, 226, 'ABOR successful.');
  }
}
