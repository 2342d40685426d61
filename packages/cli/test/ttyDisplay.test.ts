import { EventEmitter } from 'node:events';
import type { Download, SegmentMap } from '@multiget/core';
import { describe, expect, it } from 'vitest';
import { Palette, Redactor } from '../src/index.js';
import { stringWidth } from '../src/display/width.js';
import { TtyDisplay } from '../src/display/TtyDisplay.js';
import type { DownloadTask } from '../src/runner/buildTasks.js';
import { stripAnsi } from './helpers.js';

/** A terminal as the display sees it: columns that change, and a `resize` event. */
class FakeTerminal extends EventEmitter {
  readonly isTTY = true;
  output = '';
  constructor(public columns: number) {
    super();
  }
  write(text: string): boolean {
    this.output += text;
    return true;
  }
}

function task(name: string): DownloadTask {
  return { index: 0, id: name, url: `http://h/${encodeURIComponent(name)}`, parsedUrl: new URL(`http://h/${encodeURIComponent(name)}`), label: `http://h/${encodeURIComponent(name)}`, options: {} };
}

/** A download far enough along to show a bar: a start and a progress event. */
function downloading(display: TtyDisplay, name: string, map: SegmentMap = { segments: [] }): void {
  const download = new EventEmitter() as unknown as Download;
  Object.defineProperty(download, 'state', { value: 'downloading' });
  Object.defineProperty(download, 'segmentMap', { value: () => map });
  display.started(task(name), download);
  const events = download as unknown as EventEmitter;
  events.emit('start', { file: `downloads/${name}`, size: 100 * 1024 * 1024, ranges: true, resumedBytes: 0, url: 'http://h/' });
  events.emit('state', 'downloading');
  events.emit('progress', { bytesDone: 42 * 1024 * 1024, total: 100 * 1024 * 1024, speed: 3 * 1024 * 1024, eta: 19, connections: 8 });
}

function context(terminal: FakeTerminal) {
  return { stdout: terminal, stderr: terminal, palette: new Palette(false), redactor: new Redactor(), multiple: false };
}

/** ESC [ n A: cursor up n lines. */
const CURSOR_UP = new RegExp(`${String.fromCharCode(27)}\\[\\d+A`);

/** What the last redraw wrote after its erase, split into lines. */
function lastFrame(output: string): string[] {
  const frame = output.slice(output.lastIndexOf('\x1b[J') + 3);
  return stripAnsi(frame).split('\n').filter((l) => l !== '');
}

describe('the live display on a terminal that changes size', () => {
  it('fits every width in terminal columns, down to a few columns', () => {
    for (const columns of [120, 60, 30, 16, 8, 3]) {
      const terminal = new FakeTerminal(columns);
      const display = new TtyDisplay(context(terminal));
      downloading(display, '下载文件名字很长的测试.iso');
      display.error('redraw');
      const frame = lastFrame(terminal.output).filter((l) => !l.startsWith('multiget:'));
      expect(frame.length, `${columns}`).toBe(1);
      expect(stringWidth(frame[0]!), `${columns}: ${frame[0]}`).toBeLessThan(Math.max(2, columns));
      display.close();
    }
  });

  it('after a resize draws a fresh live area below instead of moving up by a count that no longer holds', () => {
    const terminal = new FakeTerminal(100);
    const display = new TtyDisplay(context(terminal));
    downloading(display, 'a.bin');
    display.error('first');
    expect(terminal.output).toContain('\x1b[1A\r');
    terminal.output = '';
    terminal.columns = 40;
    terminal.emit('resize');
    display.error('after the resize');
    expect(CURSOR_UP.test(terminal.output)).toBe(false);
    expect(terminal.output.startsWith('\r\n')).toBe(true);
    const frame = lastFrame(terminal.output).filter((l) => !l.startsWith('multiget:'));
    expect(frame).toHaveLength(1);
    expect(stringWidth(frame[0]!)).toBeLessThan(40);
    // Same width again: back to redrawing in place.
    terminal.output = '';
    display.error('again');
    expect(terminal.output).toContain('\x1b[1A\r');
    display.close();
  });
});

describe('the segment map under the bar', () => {
  const MiB = 1024 * 1024;
  // 100 MiB: 40 done, connection 0 wrote 10 of its 30, connection 1 wrote 20 of its 30.
  const map: SegmentMap = {
    size: 100 * MiB,
    segments: [
      { start: 0, end: 40 * MiB, pos: 40 * MiB },
      { start: 40 * MiB, end: 70 * MiB, pos: 50 * MiB, connection: 0 },
      { start: 70 * MiB, end: 100 * MiB, pos: 90 * MiB, connection: 1 },
    ],
  };

  it('draws done, in flight and left under the inside of the bar, as wide as the bar', () => {
    const terminal = new FakeTerminal(100);
    const display = new TtyDisplay(context(terminal));
    downloading(display, 'a.bin', map);
    display.error('redraw');
    const frame = lastFrame(terminal.output).filter((l) => !l.startsWith('multiget:'));
    expect(frame).toHaveLength(2);
    const [bar, cells] = frame as [string, string];
    const inside = bar.slice(bar.indexOf('[') + 1, bar.indexOf(']'));
    expect(cells.indexOf('█')).toBe(bar.indexOf('[') + 1);
    expect(cells.trimStart()).toHaveLength(inside.length);
    expect(cells.trimStart()).toMatch(/^█+▓+░+▓+░+$/);
    display.close();
  });

  it('is left out with --no-segment-map, on a narrow terminal, and while the size is unknown', () => {
    for (const [columns, segmentMap, m] of [
      [100, false, map],
      [59, true, map],
      [100, true, { segments: map.segments }],
    ] as const) {
      const terminal = new FakeTerminal(columns);
      const display = new TtyDisplay({ ...context(terminal), segmentMap });
      downloading(display, 'a.bin', m);
      display.error('redraw');
      expect(lastFrame(terminal.output).filter((l) => !l.startsWith('multiget:')), `${columns} ${segmentMap}`).toHaveLength(1);
      display.close();
    }
  });
});
