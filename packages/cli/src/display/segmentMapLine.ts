import type { Palette } from './Palette.js';

/** Done bytes. */
export const MAP_DONE = '█';
/** Bytes of a running request (coloured by connection when colours are on). */
export const MAP_IN_FLIGHT = '▓';
/** Bytes left. */
export const MAP_LEFT = '░';

/**
 * The segment map as terminal text, one column per cell of `segmentCells`: `█` done, `▓` in
 * flight (each connection its own colour, cycling through four, when colours are on), `░` left.
 * Every character is one column wide, so the line is exactly as wide as `cells` is long.
 */
export function segmentMapLine(cells: string, palette: Palette): string {
  const colours = [palette.yellow, palette.green, palette.magenta, palette.blue];
  let out = '';
  let run = '';
  let runKind = '';
  const flush = (): void => {
    if (run === '') return;
    if (runKind === '#') out += palette.cyan(run);
    else if (runKind === '.') out += palette.dim(run);
    else out += colours[parseInt(runKind, 36) % colours.length]!(run);
    run = '';
  };
  // Runs of one kind share one colour escape, so the line stays short.
  for (const c of cells) {
    if (c !== runKind) {
      flush();
      runKind = c;
    }
    run += c === '#' ? MAP_DONE : c === '.' ? MAP_LEFT : MAP_IN_FLIGHT;
  }
  flush();
  return out;
}
