import type { Socket } from 'node:net';
import type { FTPContext, FTPResponse, TaskResolver } from 'basic-ftp';
import { isFtpError } from './ftpErrors.js';
import type { FtpSession } from './FtpSession.js';

/** Above this many unread bytes the data socket is paused (TCP then slows the server down). */
const HIGH_WATER = 1024 * 1024;
/** Below this many unread bytes a paused data socket is resumed. */
const LOW_WATER = 256 * 1024;

/** How the control connection ended a transfer. */
export type TransferEnding =
  /** The final reply to RETR (2xx, or a 4xx/5xx one). */
  | { kind: 'reply'; code: number; message: string }
  /** The control connection failed (closed, reset, timed out): the session is unusable. */
  | { kind: 'lost'; error: unknown };

/** Thrown by `start` when REST is refused: the server cannot start a transfer mid-file. */
export class RestRefused extends Error {
  constructor(
    /** The FTP reply code of the refusal. */
    readonly ftpCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'RestRefused';
  }
}

/**
 * One RETR on a session: the passive data connection read as a queue of chunks with backpressure,
 * and the control connection's replies followed until the transfer is over.
 *
 * basic-ftp runs one "task" at a time on a control connection and routes every reply to it. This
 * transfer keeps its task open until both the data connection is done (end of data, or closed by
 * us) and the final reply arrived, so a late 226 or 426 can never be taken as the answer to the
 * next command: after that, the session is in step again and can be reused.
 */
export class FtpTransfer {
  private readonly ftp: FTPContext;
  private data: Socket | undefined;
  private readonly chunks: Buffer[] = [];
  private queued = 0;
  private paused = false;
  private eof = false;
  private dataDone = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  private started = false;
  private startWaiter: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  private finalEnding: TransferEnding | undefined;
  private readonly endingWaiters: Array<(ending: TransferEnding) => void> = [];
  private readonly dataWaiters: Array<() => void> = [];
  private task: TaskResolver | undefined;
  private taskSettled = false;

  private constructor(private readonly session: FtpSession) {
    this.ftp = session.client.ftp;
  }

  /**
   * Opens the data connection (EPSV, else PASV; a PASV reply naming another host is refused by
   * basic-ftp), sends REST when `offset` > 0, sends RETR and waits for its 150.
   *
   * @throws RestRefused - REST got a 5xx reply.
   * @throws FTPError - RETR was refused (550 ...); the session stays usable.
   * @throws Error - anything basic-ftp or a socket threw; the session may be closed.
   */
  static async start(session: FtpSession, path: string, offset: number): Promise<FtpTransfer> {
    const transfer = new FtpTransfer(session);
    await session.client.prepareTransfer(transfer.ftp);
    const data = transfer.ftp.dataSocket;
    if (data === undefined) throw new Error('No data connection after EPSV/PASV');
    transfer.attach(data);
    if (offset > 0) {
      try {
        await transfer.ftp.request(`REST ${offset}`);
      } catch (err) {
        transfer.closeData();
        // A permanent refusal means "no restart here"; a transient one (421) is only a busy server.
        if (isFtpError(err) && err.code >= 500) throw new RestRefused(err.code, err.message);
        throw err;
      }
    }
    await transfer.retr(path);
    return transfer;
  }

  /** True once the control connection failed during the transfer. */
  get lost(): boolean {
    return this.finalEnding?.kind === 'lost';
  }

  /** True once the final reply arrived and the data connection is done: the session is in step. */
  get synced(): boolean {
    return this.finalEnding?.kind === 'reply' && this.dataDone;
  }

  /** True once the data connection delivered its end (not closed by us, not failed). */
  get reachedEnd(): boolean {
    return this.eof;
  }

  /** The next chunk, or null at the end of the data. Throws the failure that stopped the transfer. */
  async read(): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        this.queued -= chunk.byteLength;
        if (this.paused && this.queued < LOW_WATER) {
          this.paused = false;
          this.data?.resume();
        }
        return chunk;
      }
      if (this.failure !== undefined) throw this.failure.error;
      if (this.eof) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The control connection's verdict on the transfer: the final reply, or the connection lost. */
  ending(): Promise<TransferEnding> {
    if (this.finalEnding !== undefined) return Promise.resolve(this.finalEnding);
    return new Promise((resolve) => this.endingWaiters.push(resolve));
  }

  /**
   * Waits up to `ms` for the session to be in step again (final reply in, data connection done).
   * Resolves false when it is not by then, or when the control connection was lost.
   */
  async drain(ms: number): Promise<boolean> {
    if (this.synced) return true;
    if (this.lost) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    try {
      for (;;) {
        if (this.synced) return true;
        if (this.lost) return false;
        // Wait only for what is still missing: a settled promise in the race would spin.
        const waits: Array<Promise<unknown>> = [timeout];
        if (this.finalEnding === undefined) waits.push(this.ending());
        if (!this.dataDone) waits.push(this.dataDonePromise());
        if ((await Promise.race(waits)) === 'timeout') return this.synced;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Closes the data connection now (the "close the data connection" way of ending a transfer
   * early: the server's write fails and it answers RETR with 426, or 226 if it had sent
   * everything). Bytes not yet read are dropped.
   */
  closeData(): void {
    const data = this.data;
    if (data === undefined) return;
    this.data = undefined;
    if (this.ftp.dataSocket === data) {
      // basic-ftp removes its own listeners (so this is no error) and destroys the socket.
      this.ftp.dataSocket = undefined;
    } else {
      data.destroy();
    }
    this.markDataDone();
    this.watchControl();
  }

  /** Stops the transfer for `reason`: readers get it, the data connection closes. */
  abort(reason: unknown): void {
    this.fail(reason);
    this.closeData();
  }

  private async retr(path: string): Promise<void> {
    const started = new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
    });
    const task = this.ftp.handle(`RETR ${path}`, (res, resolver) => this.onReply(res, resolver));
    // The task's own promise only says when basic-ftp stopped tracking it; outcomes travel through
    // `started`, `read` and `ending`.
    task.catch(() => undefined);
    try {
      await started;
    } catch (err) {
      this.closeData();
      throw err;
    }
  }

  private attach(data: Socket): void {
    this.data = data;
    data.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.queued += chunk.byteLength;
      if (!this.paused && this.queued > HIGH_WATER) {
        this.paused = true;
        data.pause();
      }
      this.notify();
    });
    data.once('end', () => {
      this.eof = true;
      this.markDataDone();
      this.watchControl();
      this.notify();
    });
    data.once('close', () => {
      if (!this.eof && this.data === data) this.fail(new Error('The data connection closed before the end of the data'));
      this.markDataDone();
    });
    // basic-ftp's own handler closes the whole context on a data socket error and tells the task.
    data.on('error', (err: Error) => this.fail(err));
  }

  private onReply(res: Error | FTPResponse, resolver: TaskResolver): void {
    this.task = resolver;
    if (res instanceof Error) {
      if (isFtpError(res) && !this.started) {
        // RETR refused (550, 425 ...): nothing was transferred and the session is in step.
        this.finish({ kind: 'reply', code: res.code, message: res.message });
        this.closeData();
        this.startWaiter?.reject(res);
        return;
      }
      if (isFtpError(res)) {
        // A failure reply after 150 (426, 451 ...): what was already read is still delivered.
        this.finish({ kind: 'reply', code: res.code, message: res.message });
        this.fail(res);
        this.closeData();
        return;
      }
      this.finish({ kind: 'lost', error: res });
      this.fail(res);
      this.startWaiter?.reject(res);
      this.settleTask();
      return;
    }
    if (res.code === 125 || res.code === 150) {
      if (this.started) return;
      this.started = true;
      // Data flows now; the idle control connection must not time out under a long transfer.
      this.ftp.socket.setTimeout(0);
      this.startWaiter?.resolve();
      return;
    }
    if (res.code >= 200 && res.code < 300) {
      this.finish({ kind: 'reply', code: res.code, message: res.message });
      if (!this.started) {
        // 226 without 150: a server that finished before saying it started.
        this.started = true;
        this.startWaiter?.resolve();
      }
      return;
    }
    if (res.code >= 300 && res.code < 400) {
      // A request for more input mid-transfer: there is no right answer, so give up the session.
      this.ftp.closeWithError(new Error(`Unexpected FTP response is requesting an answer: ${res.message}`));
    }
    // Other preliminary replies (1xx) are informational.
  }

  private finish(ending: TransferEnding): void {
    if (this.finalEnding !== undefined) return;
    this.finalEnding = ending;
    for (const waiter of this.endingWaiters.splice(0)) waiter(ending);
    this.maybeSettle();
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.notify();
  }

  private markDataDone(): void {
    if (this.dataDone) return;
    this.dataDone = true;
    for (const waiter of this.dataWaiters.splice(0)) waiter();
    this.maybeSettle();
  }

  private dataDonePromise(): Promise<void> {
    if (this.dataDone) return Promise.resolve();
    return new Promise((resolve) => this.dataWaiters.push(resolve));
  }

  /** Once the data side is over, the final reply is due: a silent server must now time out. */
  private watchControl(): void {
    if (!this.taskSettled && this.finalEnding === undefined && !this.session.closed) {
      this.ftp.socket.setTimeout(this.ftp.timeout);
    }
  }

  private maybeSettle(): void {
    if (this.finalEnding !== undefined && (this.dataDone || this.finalEnding.kind === 'lost')) this.settleTask();
  }

  private settleTask(): void {
    if (this.taskSettled || this.task === undefined) return;
    this.taskSettled = true;
    this.task.resolve(undefined);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
