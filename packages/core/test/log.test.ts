import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, Log, type LogFields, type LogLevel, type Logger, Multiget, NetworkError, TypedEmitter, fieldsFirst, formatLogLine } from '../src/index.js';
import { logDownload } from '../src/log/logDownload.js';
import { RecordingLogger } from '../src/testing.js';
import { MemoryPlugin, pseudoRandom } from './helpers/MemoryPlugin.js';

/** Counts every call, at any level. */
class CountingLogger extends RecordingLogger {
  get calls(): number {
    return this.lines.length;
  }
}

describe('Log', () => {
  it('writes the levels up to its own and nothing above', () => {
    const rec = new RecordingLogger();
    const log = Log.create(rec, 'info');
    log.error('e');
    log.warn('w');
    log.info('i');
    log.debug('d');
    log.trace('t');
    expect(rec.lines.map((l) => l.level)).toEqual(['error', 'warn', 'info']);
    expect(log.enabled('info')).toBe(true);
    expect(log.enabled('debug')).toBe(false);
  });

  it('never builds lazy fields for a level that is off', () => {
    const rec = new RecordingLogger();
    const log = Log.create(rec, 'warn');
    let built = 0;
    log.debug('d', () => {
      built++;
      return { a: 1 };
    });
    log.warn('w', () => {
      built++;
      return { a: 2 };
    });
    expect(built).toBe(1);
    expect(rec.lines).toEqual([{ level: 'warn', msg: 'w', fields: { a: 2 } }]);
  });

  it('binds fields in children and shares the level with them', () => {
    const rec = new RecordingLogger();
    const root = Log.create(rec, 'info');
    const child = root.child({ download: 'd1' }).child({ connection: 2 });
    child.debug('hidden');
    root.setLevel('debug');
    child.debug('shown', { range: '0-10' });
    expect(rec.lines).toEqual([{ level: 'debug', msg: 'shown', fields: { download: 'd1', connection: 2, range: '0-10' } }]);
    expect(child.level).toBe('debug');
  });

  it('redacts messages and fields before the logger sees them', () => {
    const rec = new RecordingLogger();
    Log.create(rec, 'trace').info('GET https://u:pw@h/f?X-Amz-Signature=s3cr3t', { password: 'pw', url: new URL('https://h/?token=t0k') });
    expect(rec.lines[0]).toEqual({ level: 'info', msg: 'GET https://h/f?X-Amz-Signature=***', fields: { password: '***', url: 'https://h/?token=***' } });
  });

  it('takes its level from a pino-like logger, refuses a logger without methods, survives one that throws', () => {
    const rec = Object.assign(new RecordingLogger(), { level: 'debug' });
    expect(Log.create(rec).level).toBe('debug');
    expect(Log.create(Object.assign(new RecordingLogger(), { level: 'silent' })).level).toBe('off');
    expect(Log.create(new RecordingLogger()).level).toBe('info');
    expect(() => Log.create({ info() {} } as unknown as Logger)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_OPTION }));
    expect(() => Log.create(rec, 'loud' as never)).toThrow(expect.objectContaining({ code: ErrorCodes.INVALID_OPTION }));
    const throwing = Log.create({ error() {}, warn() {}, info: () => { throw new Error('disk full'); }, debug() {}, trace() {} }, 'info');
    expect(() => throwing.info('x')).not.toThrow();
  });

  it('adapts fields-first loggers and formats lines with time and level', () => {
    const seen: unknown[] = [];
    const pinoLike = { error: () => {}, warn: () => {}, info: (f: LogFields, m: string) => seen.push([f, m]), debug: () => {}, trace: () => {} };
    Log.create(fieldsFirst(pinoLike), 'info').info('hello', { n: 1 });
    expect(seen).toEqual([[{ n: 1 }, 'hello']]);
    expect(formatLogLine('warn', 'retry\nnow', { code: 'MG_ERR_X', reason: 'a b', n: 2 }, new Date(0))).toBe(
      '1970-01-01T00:00:00.000Z WARN  retry now code=MG_ERR_X reason="a b" n=2',
    );
  });
});

describe('engine logging', () => {
  let dir: string;
  let mem: MemoryPlugin;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mg-log-'));
    mem = new MemoryPlugin();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function engine(logger: Logger | undefined, logLevel?: 'off' | LogLevel): Multiget {
    return new Multiget({
      plugins: [mem],
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      checkpointIntervalMs: 20,
      ...(logger ? { logger } : {}),
      ...(logLevel ? { logLevel } : {}),
    });
  }

  it('tells a download\'s story from its events, with its id on every line', async () => {
    mem.put('/f.bin', pseudoRandom(300 * 1024), { failFetches: { count: 1, code: ErrorCodes.CONNECTION_RESET } });
    const rec = new RecordingLogger();
    const dl = engine(rec, 'trace').download('mem://user:hunter22@host/f.bin?token=tok3n', { dir });
    await dl.done;
    expect(rec.messages('info')).toEqual(['start', 'done']);
    expect(rec.messages('warn')).toEqual(['retry']);
    expect(rec.lines.find((l) => l.msg === 'retry')?.fields).toMatchObject({ download: dl.id, attempt: 1, code: ErrorCodes.CONNECTION_RESET });
    expect(rec.lines.find((l) => l.msg === 'start')?.fields).toMatchObject({ url: 'mem://host/f.bin?token=***', size: 300 * 1024 });
    expect(rec.messages('debug')).toContain('state');
    for (const line of rec.lines) expect(line.fields?.['download']).toBe(dl.id);
    const all = JSON.stringify(rec.lines);
    expect(all).not.toContain('hunter22');
    expect(all).not.toContain('tok3n');
  });

  it('logs a failure at error with its code', async () => {
    mem.put('/f.bin', pseudoRandom(1024), { failFetches: { count: 10, code: ErrorCodes.NOT_FOUND } });
    const rec = new RecordingLogger();
    const dl = engine(rec, 'error').download('mem://host/f.bin', { dir, retries: 0 });
    await expect(dl.done).rejects.toMatchObject({ code: ErrorCodes.NOT_FOUND });
    expect(rec.lines).toEqual([{ level: 'error', msg: 'failed', fields: expect.objectContaining({ code: ErrorCodes.NOT_FOUND, download: dl.id }) }]);
  });

  it('makes no call to the logger when its level is off, and starts logging when the level is raised', async () => {
    mem.put('/f.bin', pseudoRandom(300 * 1024), { failFetches: { count: 1, code: ErrorCodes.CONNECTION_RESET } });
    const rec = new CountingLogger();
    const mg = engine(rec, 'off');
    await mg.download('mem://host/f.bin', { dir }).done;
    expect(rec.calls).toBe(0);
    mg.log.setLevel('info');
    await mg.download('mem://host/f.bin', { dir, overwrite: true }).done;
    expect(rec.messages()).toEqual(['start', 'done']);
  });

  it('is silent without a logger, and NODE_DEBUG=multiget turns util.debuglog on', () => {
    expect(engine(undefined).log.attached).toBe(false);
    // Node reads NODE_DEBUG once at start: a fresh process, loading the built package.
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `import(${JSON.stringify(dist)}).then(({ Multiget }) => { const mg = new Multiget(); mg.log.info('hello', { url: 'https://u:pw@h/?sig=x' }); console.log(mg.log.level); })`;
    const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
    const on = run({ NODE_DEBUG: 'net,multiget' });
    expect(on.stdout.trim()).toBe('trace');
    expect(on.stderr).toMatch(/^MULTIGET \d+: INFO hello url=https:\/\/h\/\?sig=\*\*\*$/m);
    const off = run({ NODE_DEBUG: '' });
    expect(off.stdout.trim()).toBe('off');
    expect(off.stderr).toBe('');
  });
});

describe('connection events (emitted by the transfer module)', () => {
  /** Emits the contract's connection events the way a Download does, for the bridge to read. */
  class ConnectionEventSource extends TypedEmitter<Record<string, unknown[]>> {
    fire(event: string, info: unknown): void {
      this.emit(event, info);
    }
  }

  it('logs range requests and checkpoints at trace, failed ranges, splits and connection decisions at debug', () => {
    const rec = new RecordingLogger();
    const source = new ConnectionEventSource();
    logDownload(source as unknown as Parameters<typeof logDownload>[0], Log.create(rec, 'trace').child({ download: 'd1' }));
    source.fire('rangeStart', { connection: 2, start: 100, end: 200, attempt: 1, host: 'h:80' });
    source.fire('rangeEnd', { connection: 2, start: 100, bytes: 100, outcome: 'done' });
    source.fire('rangeEnd', { connection: 3, start: 0, bytes: 5, outcome: 'failed', error: new NetworkError(ErrorCodes.CONNECTION_RESET, 'reset by https://u:p@h/?sig=s') });
    source.fire('split', { connection: 1, at: 50, end: 100 });
    source.fire('checkpoint', { bytesDone: 150 });
    source.fire('connections', { active: 2, target: 4, ceiling: 8, reason: 'throughput rising' });
    expect(rec.lines.map((l) => [l.level, l.msg])).toEqual([
      ['trace', 'range start'],
      ['trace', 'range end'],
      ['debug', 'range end'],
      ['debug', 'split'],
      ['trace', 'checkpoint'],
      ['debug', 'connections'],
    ]);
    expect(rec.lines[0]?.fields).toEqual({ download: 'd1', connection: 2, range: '100-200', attempt: 1, host: 'h:80' });
    expect(rec.lines[2]?.fields).toMatchObject({ code: ErrorCodes.CONNECTION_RESET, reason: 'reset by https://h/?sig=***' });
    expect(rec.lines[3]?.fields).toMatchObject({ at: 50, free: '50-100' });
  });
});
