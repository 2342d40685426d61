import ssh2 from 'ssh2';
import type { ConnectConfig, SFTPWrapper, Stats } from 'ssh2';

const { Client } = ssh2;

/** A connected client and its first SFTP channel. */
export interface SftpSession {
  client: InstanceType<typeof Client>;
  sftp: SFTPWrapper;
  /** The host key blob the server presented. */
  hostKey: Buffer;
  end(): void;
}

/** Connects with ssh2's client, records the host key, opens an SFTP channel. */
export async function sftpConnect(config: ConnectConfig): Promise<SftpSession> {
  const client = new Client();
  let hostKey: Buffer = Buffer.alloc(0);
  // Later errors (a dropped connection, a reset after refused auth) surface through the requests
  // that fail, not as crashes.
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
    client.connect({
      readyTimeout: 10_000,
      ...config,
      hostVerifier: (key: Buffer) => {
        hostKey = key;
        return true;
      },
    });
  });
  client.setNoDelay(true);
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
    client.sftp((err, channel) => (err ? reject(err) : resolve(channel))),
  );
  return { client, sftp, hostKey, end: () => client.end() };
}

/** What one SFTP request answered: its error's status code, or its value. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: number | undefined; message: string };

function settle<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<Outcome<T>> {
  return new Promise((resolve) =>
    fn((err, value) => {
      if (err) resolve({ ok: false, code: (err as { code?: number }).code, message: err.message });
      else resolve({ ok: true, value });
    }),
  );
}

export function stat(sftp: SFTPWrapper, path: string): Promise<Outcome<Stats>> {
  return settle((cb) => sftp.stat(path, cb));
}

export function openRead(sftp: SFTPWrapper, path: string): Promise<Outcome<Buffer>> {
  return settle((cb) => sftp.open(path, 'r', cb));
}

/** One READ: the bytes answered (empty at EOF). */
export function readAt(sftp: SFTPWrapper, handle: Buffer, offset: number, length: number): Promise<Outcome<Buffer>> {
  const buffer = Buffer.alloc(length);
  return settle<Buffer>((cb) =>
    sftp.read(handle, buffer, 0, length, offset, (err, bytes) => cb(err, buffer.subarray(0, bytes ?? 0))),
  );
}

/** Reads [start, end) with sequential requests of at most `step` bytes, continuing after short reads. */
export async function readRange(sftp: SFTPWrapper, path: string, start: number, end: number, step = 32 * 1024): Promise<Buffer> {
  const opened = await openRead(sftp, path);
  if (!opened.ok) throw new Error(`open failed: ${opened.message}`);
  const chunks: Buffer[] = [];
  try {
    for (let at = start; at < end; ) {
      const got = await readAt(sftp, opened.value, at, Math.min(step, end - at));
      if (!got.ok) throw new Error(`read failed: ${got.message}`);
      if (got.value.length === 0) break;
      chunks.push(got.value);
      at += got.value.length;
    }
  } finally {
    sftp.close(opened.value, () => undefined);
  }
  return Buffer.concat(chunks);
}

/** Polls `condition` every 5 ms until it holds (the test timeout bounds the wait). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
