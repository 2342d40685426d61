import { type DigestAlgorithm, type Download, type DownloadState, type Progress, segmentCells } from '@multiget/core';
import type { DownloadTask } from '../runner/buildTasks.js';
import type { TaskOutcome } from '../runner/runDownloads.js';
import { barParts, formatEta, formatPercent, formatSize, formatSpeed } from './format.js';
import {
  doneLine,
  errorLine,
  failedLine,
  fileName,
  isInterruption,
  restartLine,
  stoppedLine,
  taskName,
  warningLine,
  checksumLine,
} from './lines.js';
import type { Reporter, ReporterContext } from './Reporter.js';
import { segmentMapLine } from './segmentMapLine.js';
import { padEndToWidth, stringWidth, truncateToWidth } from './width.js';

/** The live area is redrawn at most this often. */
export const TTY_REDRAW_INTERVAL_MS = 100;

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const ERASE_DOWN = '\x1b[J';
const MAX_NAME_WIDTH = 32;
const MIN_NAME_WIDTH = 12;
const MIN_BAR_WIDTH = 10;
const MAX_BAR_WIDTH = 40;
/** The segment map goes under the bar from this terminal width on (narrower ones have no room to spare). */
export const SEGMENT_MAP_MIN_COLUMNS = 60;

interface Row {
  name: string;
  state: DownloadState;
  total: number | undefined;
  progress: Progress | undefined;
  retries: number;
  resumedBytes: number;
  download: Download;
}

/**
 * The live terminal display: one line per running download (name, bar, percent, bytes, speed,
 * ETA, connections) redrawn in place at most every {@link TTY_REDRAW_INTERVAL_MS}, with finished
 * downloads, warnings and errors printed above it as permanent lines.
 */
export class TtyDisplay implements Reporter {
  readonly #rows = new Map<string, Row>();
  /** Lines of the live area currently on screen, below the permanent lines. */
  #drawn = 0;
  /** Terminal width when the live area was drawn. */
  #drawnColumns = 0;
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #cursorHidden = false;
  #closed = false;
  readonly #restoreCursor = (): void => {
    if (this.#cursorHidden) this.ctx.stderr.write(SHOW_CURSOR);
  };
  readonly #onResize = (): void => {
    this.#dirty = true;
  };

  constructor(private readonly ctx: ReporterContext) {
    (ctx.stderr as Partial<NodeJS.EventEmitter>).on?.('resize', this.#onResize);
  }

  started(task: DownloadTask, download: Download): void {
    const row: Row = { name: taskName(task), state: download.state, total: undefined, progress: undefined, retries: 0, resumedBytes: 0, download };
    this.#rows.set(task.id, row);
    const { palette, redactor } = this.ctx;
    download.on('state', (state) => {
      row.state = state;
      this.#dirty = true;
    });
    download.on('start', (info) => {
      row.name = fileName(info.file);
      row.total = info.size;
      row.resumedBytes = info.resumedBytes;
      this.#dirty = true;
    });
    download.on('progress', (p) => {
      row.progress = p;
      this.#dirty = true;
    });
    // Retries are routine with many connections: counted on the row rather than printed.
    download.on('retry', () => {
      row.retries++;
      this.#dirty = true;
    });
    download.on('restart', (info) => this.#print(restartLine(palette, redactor, row.name, info.reason)));
    download.on('warning', (info) => this.#print(warningLine(palette, redactor, row.name, info)));
    this.#ensureTimer();
    this.#render('');
  }

  finished(outcome: TaskOutcome): void {
    const row = this.#rows.get(outcome.task.id);
    this.#rows.delete(outcome.task.id);
    const { palette, redactor, multiple } = this.ctx;
    if (outcome.status === 'done') this.#print(doneLine(palette, outcome.result, row?.resumedBytes));
    else if (outcome.status === 'failed') {
      this.#print(
        isInterruption(outcome.error)
          ? stoppedLine(palette, row?.name ?? taskName(outcome.task), row?.progress)
          : failedLine(palette, redactor, outcome.task, outcome.error, multiple, outcome.expiredLink),
      );
    }
  }

  checksum(_task: DownloadTask, file: string, _algorithm: DigestAlgorithm, hex: string): void {
    this.ctx.stdout.write(checksumLine(file, hex));
  }

  log(line: string): void {
    this.#print(line);
  }

  error(message: string, code?: string): void {
    this.#print(errorLine(this.ctx.palette, this.ctx.redactor.text(message), code));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#rows.clear();
    this.#render('');
    this.#restoreCursor();
    this.#cursorHidden = false;
    process.off('exit', this.#restoreCursor);
    (this.ctx.stderr as Partial<NodeJS.EventEmitter>).off?.('resize', this.#onResize);
  }

  #ensureTimer(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => {
      if (this.#dirty) this.#render('');
    }, TTY_REDRAW_INTERVAL_MS);
    this.#timer.unref();
  }

  #print(permanent: string): void {
    if (this.#closed) this.ctx.stderr.write(permanent);
    else this.#render(permanent);
  }

  /** Erases the live area, writes `permanent` above it, and draws it again, in one write. */
  #render(permanent: string): void {
    this.#dirty = false;
    const rows = this.#closed ? [] : [...this.#rows.values()];
    const columns = this.#columns();
    // One name column for all rows, so their bars line up.
    const nameWidth = Math.min(MAX_NAME_WIDTH, Math.max(8, ...rows.map((r) => stringWidth(r.name))));
    const lines = rows.flatMap((row) => this.#rowLines(row, nameWidth, columns));
    let out = '';
    if (!this.#cursorHidden && lines.length > 0) {
      this.#cursorHidden = true;
      // A crash or a second Ctrl-C must not leave the user's terminal without a cursor.
      process.once('exit', this.#restoreCursor);
      out += HIDE_CURSOR;
    }
    // After a resize the terminal may have rewrapped (or cut) the old lines: how many rows they
    // take now cannot be known, and moving up too far would erase permanent lines. Start a fresh
    // area below instead (the old one stays as it was left).
    if (this.#drawn > 0 && columns === this.#drawnColumns) out += `\x1b[${this.#drawn}A\r`;
    else if (this.#drawn > 0) out += '\r\n';
    out += ERASE_DOWN + permanent;
    for (const line of lines) out += `${line}\n`;
    this.#drawn = lines.length;
    this.#drawnColumns = columns;
    this.ctx.stderr.write(out);
  }

  /** The terminal's width now, in columns. */
  #columns(): number {
    return this.ctx.stderr.columns || this.ctx.fallbackColumns || 80;
  }

  /** A row's line, and under its bar the segment map while it downloads (unless turned off or too narrow). */
  #rowLines(row: Row, nameColumn: number, columns: number): string[] {
    const { line, bar } = this.#rowLine(row, nameColumn, columns);
    if (!bar || this.ctx.segmentMap === false || columns < SEGMENT_MAP_MIN_COLUMNS || row.state !== 'downloading') return [line];
    const cells = segmentCells(row.download.segmentMap(), bar.width);
    if (cells === '') return [line];
    // Under the inside of the bar, past its opening bracket.
    return [line, ' '.repeat(bar.column + 1) + segmentMapLine(cells, this.ctx.palette)];
  }

  /**
   * One live line, never wider than the terminal (less one column: writing into the last column
   * makes some terminals wrap), measured in terminal columns, not string length: a line that wraps
   * would add a line at every redraw.
   */
  #rowLine(row: Row, nameColumn: number, columns: number): { line: string; bar?: { column: number; width: number } } {
    const { palette } = this.ctx;
    const width = Math.max(1, columns - 1);
    const p = row.progress;
    const done = p?.bytesDone ?? 0;
    const total = p?.total ?? row.total;
    const transferring = row.state !== 'pending' && row.state !== 'probing';
    const showBar = total !== undefined && transferring;
    // Display order; `drop` ranks what goes first when the terminal is narrow (0 = never).
    const fields: Array<{ text: string; drop: number }> = [];
    if (!transferring) fields.push({ text: 'connecting…', drop: 0 });
    else {
      // Fixed widths keep the bar from jittering as the numbers change.
      if (total !== undefined) {
        fields.push({ text: formatPercent(done, total).padStart(4), drop: 0 });
        fields.push({ text: `${formatSize(done)}/${formatSize(total)}`.padStart(19), drop: 3 });
      } else fields.push({ text: formatSize(done).padStart(9), drop: 0 });
      fields.push({ text: formatSpeed(p?.speed ?? 0).padStart(11), drop: 4 });
      if (total !== undefined) fields.push({ text: `ETA ${formatEta(p?.eta).padStart(5)}`, drop: 2 });
      fields.push({ text: row.state === 'verifying' ? 'verifying…' : `${p?.connections ?? 0} conn`, drop: row.state === 'verifying' ? 0 : 1 });
    }
    if (row.retries > 0) fields.push({ text: `${row.retries} retr${row.retries === 1 ? 'y' : 'ies'}`, drop: 1 });
    const statsOf = (): string => fields.map((f) => f.text).join('  ');
    const room = (): number => width - Math.min(nameColumn, MIN_NAME_WIDTH) - 2 - (showBar ? MIN_BAR_WIDTH + 4 : 0);
    while (stringWidth(statsOf()) > room()) {
      const victim = fields.reduce<number>((best, f, i) => (f.drop > 0 && (best < 0 || f.drop < fields[best]!.drop) ? i : best), -1);
      if (victim < 0) break;
      fields.splice(victim, 1);
    }
    const stats = statsOf();
    const statsWidth = stringWidth(stats);
    const nameWidth = Math.max(1, Math.min(nameColumn, width - statsWidth - 2 - (showBar ? MIN_BAR_WIDTH + 4 : 0)));
    const name = padEndToWidth(truncateToWidth(row.name, nameWidth), nameWidth);
    const barWidth = Math.min(MAX_BAR_WIDTH, width - nameWidth - statsWidth - 6);
    // Too narrow for a bar of the minimum width: name and numbers only, cut to the terminal.
    if (!showBar || barWidth < MIN_BAR_WIDTH) return { line: truncateToWidth(`${name}  ${stats}`, width) };
    const [filled, empty] = barParts(total! > 0 ? done / total! : 1, barWidth);
    return { line: `${name}  [${palette.cyan(filled)}${empty}]  ${stats}`, bar: { column: nameWidth + 2, width: barWidth } };
  }
}
