/**
 * Messages between the extension and the Downloads webview, typed in both directions.
 *
 * The webview is a web page: whatever runs in it (a bug, injected markup) can post anything, so the
 * extension treats every incoming message as untrusted input and runs it through
 * {@link parseWebviewMessage} before acting. The parser is strict: exact keys, known literals,
 * bounded strings; anything else is `undefined` and ignored.
 */
import { DOWNLOAD_ACTIONS, type DownloadAction, type DownloadRow } from '../model/viewModel';
import type { SegmentMapView } from '../model/insight';

/** Commands of the panel's toolbar, which need no download id. */
export const PANEL_COMMANDS = ['downloadUrl', 'pauseAll', 'resumeAll', 'clearCompleted'] as const;

/** One of {@link PANEL_COMMANDS}. */
export type PanelCommand = (typeof PANEL_COMMANDS)[number];

/** Webview → extension. */
export type WebviewMessage =
  /** The script has loaded (or the page was restored): send the current state. */
  | { type: 'ready' }
  /** A row's button. */
  | { type: 'action'; action: DownloadAction; id: string }
  /** A toolbar button. */
  | { type: 'command'; command: PanelCommand }
  /**
   * Something dropped on the panel: its `text/uri-list` and `text/plain` data (either may be
   * empty), each at most {@link MAX_DROP_LENGTH} characters. The extension picks the URLs out.
   */
  | { type: 'drop'; uriList: string; text: string };

/** Longest dropped text the extension accepts (per format); a larger drop is not a list of links. */
export const MAX_DROP_LENGTH = 64 * 1024;

/** Extension → webview. */
export type ExtensionMessage = {
  type: 'state';
  rows: DownloadRow[];
  summary: string;
  /** Why the list may be stale (the service is starting or stopped), or `null`. */
  notice: string | null;
  /** How many rows "Clear completed" would remove (the button is disabled at 0). */
  clearable: number;
  /** Segment maps of the downloads that are transferring, by id. */
  segmentMaps: Record<string, SegmentMapView>;
  /** The footer: the service's own CPU time and memory, or empty. */
  footer: string;
};

/**
 * Download ids are the service's UUIDs; the pattern is looser (a future id scheme) but keeps out
 * anything that could surprise a log line or a quick pick.
 */
const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function hasExactKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(value, k));
}

function isOneOf<T extends string>(value: unknown, options: readonly T[]): value is T {
  return typeof value === 'string' && (options as readonly string[]).includes(value);
}

/**
 * Returns `raw` as a {@link WebviewMessage} when it is exactly one, else `undefined`. Extra or
 * missing keys, unknown types, actions or commands, and ids that are not short tokens are all
 * rejected. Values are copied, so later changes to `raw` cannot reach the caller.
 */
export function parseWebviewMessage(raw: unknown): WebviewMessage | undefined {
  if (!isPlainObject(raw)) return undefined;
  switch (raw['type']) {
    case 'ready':
      return hasExactKeys(raw, ['type']) ? { type: 'ready' } : undefined;
    case 'action': {
      if (!hasExactKeys(raw, ['type', 'action', 'id'])) return undefined;
      const { action, id } = raw;
      if (!isOneOf(action, DOWNLOAD_ACTIONS) || typeof id !== 'string' || !ID_PATTERN.test(id)) return undefined;
      return { type: 'action', action, id };
    }
    case 'command': {
      if (!hasExactKeys(raw, ['type', 'command'])) return undefined;
      const { command } = raw;
      return isOneOf(command, PANEL_COMMANDS) ? { type: 'command', command } : undefined;
    }
    case 'drop': {
      if (!hasExactKeys(raw, ['type', 'uriList', 'text'])) return undefined;
      const { uriList, text } = raw;
      if (typeof uriList !== 'string' || typeof text !== 'string') return undefined;
      if (uriList.length > MAX_DROP_LENGTH || text.length > MAX_DROP_LENGTH) return undefined;
      if (uriList === '' && text === '') return undefined;
      return { type: 'drop', uriList, text };
    }
    default:
      return undefined;
  }
}

/** True for a string that can be a download id (the same rule as in {@link parseWebviewMessage}). */
export function isDownloadId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}
