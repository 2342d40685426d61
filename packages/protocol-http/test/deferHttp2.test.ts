// The stand-in for undici's client-h2.js, in this process: it is what undici's Client gets from the
// require cache, and any use of it (a property read, a call) loads the real module, puts it in the
// cache and answers from it. (undiciParts.test.ts checks, in fresh processes, that a plain download
// never loads node:http2 and that an HTTP/2 request through the same undici works.)
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { deferredHttp2 } from '../src/deferHttp2.js';

const require = createRequire(import.meta.url);
/** Node's list of the built-in modules it loaded (not in its type definitions). */
const builtinsLoaded = (): string[] => (process as unknown as { moduleLoadList: string[] }).moduleLoadList;

describe('the client-h2 stand-in', () => {
  it('is in undici\'s require cache until used, then hands every use to the real module', () => {
    // Imported first in this file: undici's Client is not loaded yet, so the stand-in is in place.
    expect(deferredHttp2).toBeDefined();
    const { path, loaded } = deferredHttp2!;
    expect(loaded()).toBe(false);
    expect(builtinsLoaded().includes('NativeModule http2')).toBe(false);
    const standIn = require(path) as ((...args: unknown[]) => unknown) & { name: string };
    expect(typeof standIn).toBe('function');
    expect(loaded()).toBe(false);

    // A property read loads the real module (and node:http2), which takes the stand-in's place.
    const realName = standIn.name;
    expect(loaded()).toBe(true);
    expect(builtinsLoaded().includes('NativeModule http2')).toBe(true);
    const real = require(path) as (...args: unknown[]) => unknown;
    expect(real).not.toBe(standIn);
    expect(realName).toBe(real.name);
    expect('length' in standIn).toBe('length' in real);

    // A call goes to the real function: undici's connectH2 refuses a client that is not one, as
    // the real module does when called directly.
    const viaStandIn = captureError(() => standIn({}, {}));
    const direct = captureError(() => real({}, {}));
    expect(viaStandIn).toBeInstanceOf(Error);
    expect(String(viaStandIn)).toBe(String(direct));
  });
});

function captureError(run: () => unknown): unknown {
  try {
    run();
  } catch (err) {
    return err;
  }
  return undefined;
}
