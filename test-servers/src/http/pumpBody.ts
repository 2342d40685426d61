import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { readContent } from '../generatedContent.js';
import { TokenBucket } from '../TokenBucket.js';
import type { FileContent } from '../content.js';

/** Normal write size: large enough that a GiB costs a few thousand writes, small enough to pace. */
export const SLICE = 256 * 1024;

/** How a body ends once its bytes (possibly cut short) are written. */
export type BodyEnding = 'end' | 'drop' | 'stall';

/** What to send of a file body and how. */
export interface BodyPlan {
  /** The representation's bytes (the plan sends a window of them). */
  readonly content: FileContent;
  /** First byte offset in the content. */
  readonly start: number;
  /** Offset after the last byte to send (exclusive), already cut short for a drop or a stall. */
  readonly end: number;
  /** Pace the body to this many bytes per second. */
  readonly bytesPerSec: number | undefined;
  /** What happens after the last byte of the window. */
  readonly ending: BodyEnding;
  /** Bytes sent after the window, in the same write as its last bytes (a body longer than announced). */
  readonly trailer?: Buffer;
  /** Told the size of each write as it is handed to the socket. */
  readonly onSent: (bytes: number) => void;
  /**
   * Asked before each write how many of `wanted` bytes may still go (bytes shared with other
   * responses, as a signed link's); fewer ends the body there like a drop.
   */
  readonly allowance?: (wanted: number) => number;
}

/** Resolves never; rejects when `signal` aborts (the response closed). */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Writes a body honouring backpressure, then ends, drops or stalls the response. Rejects with the
 * abort reason when the response closes first (client gone, server closing).
 */
export async function pumpBody(res: ServerResponse, plan: BodyPlan, signal: AbortSignal): Promise<void> {
  const bucket = plan.bytesPerSec === undefined ? undefined : new TokenBucket(plan.bytesPerSec, SLICE);
  const step = bucket?.maxWrite ?? SLICE;
  let ending = plan.ending;
  let end = plan.end;
  for (let at = plan.start; at < end;) {
    let length = Math.min(step, end - at);
    if (bucket !== undefined) await bucket.take(length, signal);
    signal.throwIfAborted();
    const allowed = plan.allowance?.(length) ?? length;
    if (allowed < length) {
      ending = 'drop';
      length = Math.max(0, allowed);
      end = at + length;
      if (length === 0) break;
    }
    const slice = readContent(plan.content, at, at + length);
    at += length;
    // The trailer goes with the last bytes of a whole window, not after a cut.
    const trailer = at >= end && ending === plan.ending ? plan.trailer : undefined;
    const fits = res.write(trailer !== undefined ? Buffer.concat([slice, trailer]) : slice);
    plan.onSent(length);
    if (!fits) await once(res, 'drain', { signal });
  }
  switch (ending) {
    case 'end':
      res.end();
      return;
    case 'drop': {
      // Ending the socket (not the response) flushes what was written, headers included, and then
      // closes mid-body: the client gets exactly the promised bytes and then a broken message.
      const socket = res.socket;
      if (socket === null) return;
      socket.end(() => socket.destroy());
      return;
    }
    case 'stall':
      await untilAborted(signal);
  }
}
