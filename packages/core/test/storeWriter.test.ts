// StoreWriter: the manager's queue and history written at once when someone waits (`save()`), and
// after a gathering wait that grows with the time a write takes when nobody does
// (`saveInBackground()`: a download ended), so that a long queue is not rewritten after every
// download's end; a document nothing changed is not written. Fake timers (setTimeout and
// performance.now): no test waits.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreWriter } from '../src/manager/StoreWriter.js';
import type { ManagerDocuments, ManagerStore } from '../src/index.js';

/** A store whose every write takes `writeMs` (of fake time), and that records what it was given. */
class SlowStore implements ManagerStore {
  readonly written: Array<[string, unknown]> = [];
  constructor(private readonly writeMs: number) {}
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async read(): Promise<undefined> {
    return undefined;
  }
  async write<K extends keyof ManagerDocuments>(name: K, document: ManagerDocuments[K]): Promise<void> {
    await new Promise((r) => setTimeout(r, this.writeMs));
    this.written.push([name, JSON.parse(JSON.stringify(document))]);
  }
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A writer over `store` whose queue document carries `version.n`, the state it was taken at. */
function writerOf(store: SlowStore, warnings: unknown[] = []): { writer: StoreWriter; state: { n: number } } {
  const state = { n: 0 };
  const writer = new StoreWriter(
    store,
    { queue: () => ({ version: 1, settings: {} as never, entries: [{ n: state.n } as never] }), history: () => ({ version: 1, entries: [{ n: state.n } as never] }) },
    (w) => warnings.push(w),
  );
  return { writer, state };
}

/** The states (`n`) of the queue documents written so far. */
function queuesWritten(store: SlowStore): number[] {
  return store.written.filter(([name]) => name === 'queue').map(([, doc]) => (doc as { entries: Array<{ n: number }> }).entries[0]!.n);
}

describe('StoreWriter', () => {
  it('writes a save() at once, and gathers background saves for ten times the last write', async () => {
    const store = new SlowStore(20);
    const { writer, state } = writerOf(store);
    state.n = 1;
    const saved = writer.save();
    await vi.advanceTimersByTimeAsync(20);
    await saved;
    expect(queuesWritten(store)).toEqual([1]);

    // The last write took 20 ms (the queue alone): background saves gather for 200 ms.
    for (let n = 2; n <= 6; n++) {
      state.n = n;
      writer.saveInBackground();
      await vi.advanceTimersByTimeAsync(30);
    }
    expect(queuesWritten(store)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(50 + 20);
    // One write, of the newest state, for five background saves.
    expect(queuesWritten(store)).toEqual([1, 6]);
  });

  it('ends a gathering wait when someone waits for a save, and at close', async () => {
    const store = new SlowStore(50);
    const { writer, state } = writerOf(store);
    await Promise.all([writer.save(), vi.advanceTimersByTimeAsync(100)]);
    // The last write took 50 ms: a background save would wait half a second.
    state.n = 1;
    writer.saveInBackground();
    await vi.advanceTimersByTimeAsync(10);
    state.n = 2;
    const saved = writer.save();
    await vi.advanceTimersByTimeAsync(100);
    await saved;
    expect(queuesWritten(store)).toEqual([0, 2]);

    state.n = 3;
    writer.saveInBackground();
    await vi.advanceTimersByTimeAsync(10);
    const closed = writer.close();
    await vi.advanceTimersByTimeAsync(100);
    await closed;
    expect(queuesWritten(store)).toEqual([0, 2, 3]);
  });

  it('writes the history only when it changed', async () => {
    const store = new SlowStore(1);
    const { writer, state } = writerOf(store);
    const names = (): string[] => store.written.map(([name]) => name);
    await Promise.all([writer.save(), vi.advanceTimersByTimeAsync(10)]);
    expect(names()).toEqual(['queue']);
    // A download ended: its state and its history entry.
    state.n = 1;
    writer.changed('history');
    writer.saveInBackground();
    await vi.advanceTimersByTimeAsync(100);
    expect(names()).toEqual(['queue', 'queue', 'history']);
    await Promise.all([writer.save('history'), vi.advanceTimersByTimeAsync(10)]);
    await Promise.all([writer.close(), vi.advanceTimersByTimeAsync(10)]);
    expect(names()).toEqual(['queue', 'queue', 'history', 'history', 'queue']);
  });

  it('waits at most a second however slow the writes', async () => {
    const store = new SlowStore(1000);
    const { writer, state } = writerOf(store);
    await Promise.all([writer.save(), vi.advanceTimersByTimeAsync(2000)]);
    state.n = 1;
    writer.saveInBackground();
    await vi.advanceTimersByTimeAsync(999);
    expect(queuesWritten(store)).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1 + 1000);
    expect(queuesWritten(store)).toEqual([0, 1]);
  });
});
