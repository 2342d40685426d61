import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';

/** One complete FTP reply. */
export interface Reply {
  code: number;
  /** Every line, CRLF removed. */
  lines: string[];
}

/** TLS settings of a raw client: the CA to trust. */
export interface RawTls {
  ca: string;
}

/** What a RETR got: its replies and the data, and whether the data ended cleanly. */
export interface Retrieved {
  replies: Reply[];
  data: Buffer;
}

/**
 * A deliberately small FTP client that speaks raw protocol, so tests see exactly what the server
 * sends (basic-ftp hides the details the server tests are about).
 */
export class RawFtp {
  private socket: Socket;
  private text = '';
  private pending: string[] = [];
  private readonly replies: Reply[] = [];
  private waiters: Array<(reply: Reply | undefined) => void> = [];
  private session: Buffer | undefined;
  /** True once the server closed the control connection. */
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.listen(socket);
  }

  /** Connects (with TLS from the first byte when `implicit` is given) and reads the greeting. */
  static async connect(port: number, options: { host?: string; implicit?: RawTls } = {}): Promise<{ client: RawFtp; greeting: Reply }> {
    const host = options.host ?? '127.0.0.1';
    const socket = options.implicit
      ? tls.connect({ port, host, ca: options.implicit.ca })
      : net.connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.implicit ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawFtp(socket);
    const greeting = await client.next();
    return { client, greeting };
  }

  /** The next complete reply (rejects if the connection closes first). */
  async next(): Promise<Reply> {
    const ready = this.replies.shift();
    if (ready !== undefined) return ready;
    if (this.closed) throw new Error('control connection closed');
    const reply = await new Promise<Reply | undefined>((resolve) => this.waiters.push(resolve));
    if (reply === undefined) throw new Error('control connection closed');
    return reply;
  }

  /** Sends one command line without waiting. */
  write(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Sends bytes as they are, without a line end. */
  writeRaw(text: string): void {
    this.socket.write(text);
  }

  /** Sends a command and returns its (first) reply. */
  async send(line: string): Promise<Reply> {
    this.write(line);
    return await this.next();
  }

  /** USER + PASS; returns the reply to PASS (or to USER when it was final). */
  async login(user = 'anonymous', password = 'guest'): Promise<Reply> {
    const first = await this.send(`USER ${user}`);
    if (first.code !== 331) return first;
    return await this.send(`PASS ${password}`);
  }

  /** AUTH TLS and the handshake on the control connection. */
  async secure(options: RawTls): Promise<Reply> {
    const reply = await this.send('AUTH TLS');
    if (reply.code !== 234) return reply;
    const raw = this.socket;
    raw.removeAllListeners('data');
    const secure = tls.connect({ socket: raw, ca: options.ca, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
    return reply;
  }

  /** EPSV (or PASV) and the connection to the port it names; under PROT P, a TLS connection. */
  async openData(options: { pasv?: boolean; tls?: RawTls } = {}): Promise<Socket> {
    const reply = await this.send(options.pasv ? 'PASV' : 'EPSV');
    let port: number;
    if (options.pasv) {
      const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(reply.lines[0] ?? '');
      if (m === null) throw new Error(`bad PASV reply ${reply.lines.join('|')}`);
      port = Number(m[5]) * 256 + Number(m[6]);
    } else {
      const m = /\(\|\|\|(\d+)\|\)/.exec(reply.lines[0] ?? '');
      if (m === null) throw new Error(`bad EPSV reply ${reply.lines.join('|')}`);
      port = Number(m[1]);
    }
    const host = this.socket.remoteAddress ?? '127.0.0.1';
    const raw = net.connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      raw.once('connect', () => resolve());
      raw.once('error', reject);
    });
    if (options.tls === undefined) return raw;
    const control = this.socket as TLSSocket;
    // Resume the control connection's session: servers such as vsftpd require it (anti-hijack).
    const secure = tls.connect({ socket: raw, ca: options.tls.ca, host: '127.0.0.1', session: this.session ?? control.getSession() });
    secure.on('error', () => undefined);
    return secure;
  }

  /** REST (when `offset`), RETR over a fresh data connection, the data read to its end, and the final reply. */
  async retr(path: string, options: { offset?: number; pasv?: boolean; tls?: RawTls } = {}): Promise<Retrieved> {
    const data = await this.openData(options);
    const replies: Reply[] = [];
    if (options.offset !== undefined) replies.push(await this.send(`REST ${options.offset}`));
    const bytes = readToEnd(data);
    const first = await this.send(`RETR ${path}`);
    replies.push(first);
    if (first.code !== 150 && first.code !== 125) {
      data.destroy();
      return { replies, data: Buffer.alloc(0) };
    }
    const body = await bytes;
    replies.push(await this.next());
    return { replies, data: body };
  }

  /** Closes the control connection. */
  close(): void {
    this.socket.destroy();
  }

  private listen(socket: Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onText(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiters.splice(0)) waiter(undefined);
    });
    if (socket instanceof tls.TLSSocket) socket.on('session', (session: Buffer) => (this.session = session));
  }

  private onText(chunk: string): void {
    this.text += chunk;
    for (let nl = this.text.indexOf('\n'); nl !== -1; nl = this.text.indexOf('\n')) {
      const line = this.text.slice(0, nl).replace(/\r$/, '');
      this.text = this.text.slice(nl + 1);
      this.pending.push(line);
      const first = this.pending[0] ?? '';
      const code = first.slice(0, 3);
      const multiline = first[3] === '-';
      if (!multiline || (line.startsWith(code) && line[3] === ' ')) {
        const reply = { code: Number(code), lines: this.pending };
        this.pending = [];
        const waiter = this.waiters.shift();
        if (waiter !== undefined) waiter(reply);
        else this.replies.push(reply);
      }
    }
  }
}

/** Everything a data connection delivers until it ends or closes. */
export function readToEnd(socket: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Polls `condition` every 5 ms until it holds (the test timeout bounds the wait). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
