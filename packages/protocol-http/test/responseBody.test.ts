import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { BodyCanceledError, ResponseBody } from '../src/ResponseBody.js';

/** undici's side of one response, as far as the body sees it: pause, resume, abort. */
function controller(): Dispatcher.DispatchController & { aborts: Error[]; resumes: number } {
  let paused = false;
  let aborted = false;
  const aborts: Error[] = [];
  return {
    aborts,
    resumes: 0,
    get paused() {
      return paused;
    },
    get aborted() {
      return aborted;
    },
    get reason() {
      return aborts[0] ?? null;
    },
    pause() {
      paused = true;
    },
    resume() {
      if (paused) this.resumes++;
      paused = false;
    },
    abort(reason: Error) {
      aborted = true;
      aborts.push(reason);
    },
  };
}

const chunk = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill);

describe('ResponseBody', () => {
  it('pauses undici at its high-water mark and resumes once the reader took it below half', () => {
    const ctl = controller();
    const body = new ResponseBody(1000, () => {});
    body.attach(ctl);
    body.push(chunk(400));
    body.push(chunk(400));
    expect(ctl.paused).toBe(false);
    body.push(chunk(400)); // 1200 buffered
    expect(ctl.paused).toBe(true);
    expect(body.take()?.byteLength).toBe(400); // 800 left: still above half
    expect(ctl.paused).toBe(true);
    expect(body.take()?.byteLength).toBe(400); // 400 left: resume
    expect(ctl.paused).toBe(false);
    expect(ctl.resumes).toBe(1);
  });

  it('hands out the chunks it was given, in order and uncopied, then null at the end', async () => {
    const body = new ResponseBody(1 << 20, () => {});
    body.attach(controller());
    const a = chunk(10, 1);
    const b = chunk(20, 2);
    expect(body.take()).toBeUndefined();
    const waiting = body.wait();
    body.push(a);
    await waiting;
    body.push(b);
    body.end();
    expect(body.take()).toBe(a);
    expect(body.take()).toBe(b);
    expect(body.take()).toBeNull();
  });

  it('delivers the bytes that arrived before a failure, then throws it', () => {
    const body = new ResponseBody(1 << 20, () => {});
    body.attach(controller());
    const a = chunk(10);
    body.push(a);
    const error = new Error('reset');
    body.fail(error);
    expect(body.take()).toBe(a);
    expect(() => body.take()).toThrow(error);
  });

  it('cancel aborts the response once, drops what is buffered, and reports it settled once', () => {
    const ctl = controller();
    let settled = 0;
    const body = new ResponseBody(1 << 20, () => settled++);
    body.attach(ctl);
    body.push(chunk(10));
    body.cancel('stop');
    body.cancel('again');
    expect(ctl.aborts).toHaveLength(1);
    expect(ctl.aborts[0]).toBeInstanceOf(BodyCanceledError);
    expect((ctl.aborts[0] as Error).cause).toBe('stop');
    expect(settled).toBe(1);
    expect(() => body.take()).toThrow(BodyCanceledError);
  });

  it('discard reads a short body to its end (so the connection is reused) and cancels a long one', () => {
    const short = controller();
    const a = new ResponseBody(100, () => {});
    a.attach(short);
    a.push(chunk(150)); // paused
    a.discard(1000);
    expect(short.paused).toBe(false);
    a.push(chunk(500));
    a.end();
    expect(short.aborts).toHaveLength(0);
    expect(a.take()).toBeNull();

    const long = controller();
    const b = new ResponseBody(1 << 20, () => {});
    b.attach(long);
    b.push(chunk(600));
    b.discard(1000);
    expect(long.aborts).toHaveLength(0);
    b.push(chunk(600));
    expect(long.aborts).toHaveLength(1);
  });
});
