// The queue's indexes (by key, queued, active, and the cached queue order) against a plain scan of
// every entry, over random sequences of what the manager does to entries: add, change of state,
// priority, move, new key (a new URL), removal. The indexes exist for long lists (10,000 URLs took
// 28 s when every change scanned every entry); they must never change an answer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIVE, type Entry, Queue, UNFINISHED, byQueueOrder, newEntry } from '../src/manager/Queue.js';
import type { EntryState } from '../src/manager/types.js';

const STATES: EntryState[] = ['queued', 'probing', 'downloading', 'verifying', 'paused', 'completed', 'failed', 'canceled'];
const KEYS = ['k0', 'k1', 'k2', 'k3'];

type Op =
  | { op: 'add'; priority: number; key: number }
  | { op: 'enter'; at: number; state: number }
  | { op: 'priority'; at: number; priority: number }
  | { op: 'move'; at: number; index: number }
  | { op: 'rekey'; at: number; key: number }
  | { op: 'delete'; at: number };

const ops = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), priority: fc.integer({ min: -1, max: 1 }), key: fc.nat(3) }) },
    { weight: 6, arbitrary: fc.record({ op: fc.constant('enter' as const), at: fc.nat(), state: fc.nat(STATES.length - 1) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('priority' as const), at: fc.nat(), priority: fc.integer({ min: -1, max: 1 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('move' as const), at: fc.nat(), index: fc.nat(20) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('rekey' as const), at: fc.nat(), key: fc.nat(3) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  ),
  { maxLength: 60 },
);

function apply(queue: Queue, live: Entry[], o: Op): void {
  if (o.op === 'add') {
    const e = newEntry(new URL(`https://example.test/${live.length}.bin`), KEYS[o.key]!, { priority: o.priority }, queue.nextSeq());
    queue.add(e);
    live.push(e);
    return;
  }
  if (live.length === 0) return;
  const e = live[o.at % live.length]!;
  switch (o.op) {
    case 'enter':
      queue.enter(e, STATES[o.state]!);
      break;
    case 'priority':
      queue.setPriority(e, o.priority);
      break;
    case 'move':
      queue.move(e, o.index);
      break;
    case 'rekey':
      queue.rekey(e, KEYS[o.key]!);
      break;
    case 'delete':
      queue.delete(e.id);
      live.splice(live.indexOf(e), 1);
      break;
  }
}

describe('Queue indexes (properties)', () => {
  it('answer busy, unfinished, active and startable as a scan of every entry does', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 1, max: 4 }), (sequence, maxConcurrent) => {
        const queue = new Queue();
        const live: Entry[] = [];
        for (const o of sequence) {
          apply(queue, live, o);
          const queued = live.filter((e) => e.state === 'queued').sort(byQueueOrder);
          const active = live.filter((e) => ACTIVE.has(e.state)).sort(byQueueOrder);
          expect(queue.busy()).toBe(queued.length + active.length > 0);
          expect(queue.active()).toEqual(active);
          expect(queue.startable(maxConcurrent)).toEqual(queued.slice(0, Math.max(0, maxConcurrent - active.length)));
          for (const key of KEYS) {
            const found = queue.unfinished(key);
            const any = live.filter((e) => e.key === key && UNFINISHED.has(e.state));
            if (any.length === 0) expect(found).toBeUndefined();
            else expect(any).toContain(found);
          }
        }
      }),
      { numRuns: 1500 },
    );
  });
});
