/**
 * The Downloads panel's script (bundled to media/panel.js). It only places text the extension
 * computed (the view model) into the DOM, always with `textContent`, and posts typed messages back;
 * the extension validates them again, because a webview is a web page.
 *
 * Rows are updated in place, keyed by download id, so progress updates several times a second
 * never steal keyboard focus or reset a screen reader's position.
 */
import { MAX_DROP_LENGTH, type ExtensionMessage, type WebviewMessage } from '../webview/messages';
import type { DownloadAction, DownloadRow } from '../model/viewModel';
import { ACTION_LABELS, rowMatches } from '../model/viewModel';
import { formatDateTime } from '../model/format';
import type { SegmentMapView } from '../model/insight';

/** What the webview keeps across hide/show and window reloads (VS Code stores it for us). */
interface SavedState {
  version: 1;
  filter: string;
}

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  setState(state: SavedState): void;
  getState(): unknown;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const list = document.getElementById('downloads') as HTMLUListElement;
const summary = document.getElementById('summary') as HTMLElement;
const notice = document.getElementById('notice') as HTMLElement;
const empty = document.getElementById('empty') as HTMLElement;
const noMatch = document.getElementById('no-match') as HTMLElement;
const filter = document.getElementById('filter') as HTMLInputElement;
const clearButton = document.querySelector<HTMLButtonElement>('button[data-command="clearCompleted"]')!;
const dropHint = document.getElementById('drop-hint') as HTMLElement;
const footer = document.getElementById('footer') as HTMLElement;

function savedFilter(): string {
  const state: unknown = vscode.getState();
  if (typeof state === 'object' && state !== null) {
    const value = (state as { filter?: unknown }).filter;
    if (typeof value === 'string') return value;
  }
  return '';
}
filter.value = savedFilter();

interface RowElements {
  item: HTMLLIElement;
  name: HTMLElement;
  state: HTMLElement;
  progress: HTMLProgressElement;
  map: HTMLElement;
  mapKey: string;
  bytes: HTMLElement;
  speed: HTMLElement;
  eta: HTMLElement;
  connections: HTMLElement;
  limit: HTMLElement;
  times: HTMLElement;
  error: HTMLElement;
  url: HTMLElement;
  actions: HTMLElement;
  actionKey: string;
  row: DownloadRow | undefined;
}

const rows = new Map<string, RowElements>();

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = className;
  return e;
}

function setText(e: HTMLElement, text: string): void {
  if (e.textContent !== text) e.textContent = text;
  e.hidden = text === '';
}

function createRow(id: string): RowElements {
  const item = el('li', 'download');
  item.dataset['id'] = id;
  const head = el('div', 'head');
  const name = el('span', 'name');
  const state = el('span', 'state');
  head.append(name, state);
  const progress = el('progress', 'bar');
  progress.max = 100;
  const map = el('div', 'segment-map');
  map.setAttribute('role', 'img');
  map.hidden = true;
  const meta = el('div', 'meta');
  const bytes = el('span', 'bytes');
  const speed = el('span', 'speed');
  const eta = el('span', 'eta');
  const connections = el('span', 'connections');
  const limit = el('span', 'limit');
  meta.append(bytes, speed, eta, connections, limit);
  const times = el('div', 'times');
  const error = el('div', 'error');
  error.setAttribute('role', 'alert');
  const url = el('div', 'url');
  const actions = el('div', 'actions');
  actions.setAttribute('role', 'group');
  item.append(head, progress, map, meta, error, url, times, actions);
  return { item, name, state, progress, map, mapKey: '', bytes, speed, eta, connections, limit, times, error, url, actions, actionKey: '', row: undefined };
}

function renderActions(r: RowElements, row: DownloadRow): void {
  const key = row.actions.join(',');
  if (key === r.actionKey) return;
  // Keep focus on the same action if it survives the change (Pause → Resume moves it to the first).
  const focused = document.activeElement instanceof HTMLButtonElement && r.actions.contains(document.activeElement)
    ? (document.activeElement.dataset['action'] ?? '')
    : undefined;
  r.actions.replaceChildren(
    ...row.actions.map((action: DownloadAction, index) => {
      // The first action is the one a user most likely wants; the others are quieter.
      const b = el('button', index === 0 ? '' : 'secondary');
      b.type = 'button';
      b.dataset['action'] = action;
      b.textContent = ACTION_LABELS[action];
      b.setAttribute('aria-label', `${ACTION_LABELS[action]} ${row.name}`);
      return b;
    }),
  );
  r.actionKey = key;
  if (focused !== undefined) {
    const same = r.actions.querySelector<HTMLButtonElement>(`button[data-action="${focused}"]`);
    (same ?? r.actions.querySelector<HTMLButtonElement>('button'))?.focus();
  }
}

/**
 * The segment map under the bar: one block per run of cells, its width its share of the file (set
 * through CSSOM, which the panel's CSP allows, unlike style attributes). Redrawn only when it changed.
 */
function renderMap(r: RowElements, view: SegmentMapView | undefined): void {
  const key = view === undefined ? '' : view.runs.map((run) => `${run.kind}${run.connection ?? ''}:${run.cells}`).join(',');
  if (key === r.mapKey) return;
  r.mapKey = key;
  r.map.hidden = view === undefined;
  if (view === undefined) {
    r.map.replaceChildren();
    return;
  }
  r.map.setAttribute('aria-label', view.label);
  r.map.title = view.label;
  r.map.replaceChildren(
    ...view.runs.map((run) => {
      const block = el('span', run.kind === 'flight' ? `run flight c${(run.connection ?? 0) % 8}` : `run ${run.kind}`);
      block.style.flexGrow = String(run.cells);
      return block;
    }),
  );
}

function renderRow(r: RowElements, row: DownloadRow): void {
  r.item.dataset['state'] = row.state;
  r.item.toggleAttribute('data-link-expired', row.linkExpired);
  r.item.setAttribute('aria-label', row.ariaLabel);
  setText(r.name, row.name);
  r.name.title = row.file ?? row.url;
  setText(r.state, row.stateLabel);
  if (row.percent === null) {
    r.progress.removeAttribute('value');
    r.progress.setAttribute('aria-label', `${row.name}: size unknown`);
  } else {
    r.progress.value = row.percent;
    r.progress.setAttribute('aria-label', `${row.name}: ${row.percent} percent`);
  }
  setText(r.bytes, row.bytesText);
  setText(r.speed, row.speedText);
  setText(r.eta, row.etaText === '' ? '' : `ETA ${row.etaText}`);
  setText(r.connections, row.connectionsText);
  setText(r.limit, row.limitText);
  // Dates in the user's own locale and time zone: the webview runs where the user is.
  const added = formatDateTime(row.addedAt);
  const finished = formatDateTime(row.finishedAt);
  const finishedWord = row.state === 'completed' ? 'Finished' : row.state === 'failed' ? 'Failed' : 'Ended';
  setText(r.times, [added === '' ? '' : `Added ${added}`, finished === '' ? '' : `${finishedWord} ${finished}`].filter((t) => t !== '').join(' · '));
  r.row = row;
  setText(r.error, row.errorText);
  setText(r.url, row.url);
  renderActions(r, row);
}

/** Hides the rows the filter does not match, and says so when it hides them all. */
function applyFilter(): void {
  const query = filter.value;
  let shown = 0;
  for (const r of rows.values()) {
    const match = r.row === undefined || rowMatches(r.row, query);
    r.item.hidden = !match;
    if (match) shown++;
  }
  setText(noMatch, rows.size > 0 && shown === 0 ? `No downloads match “${query.trim()}”.` : '');
}

function render(message: ExtensionMessage): void {
  setText(summary, message.summary);
  setText(footer, message.footer);
  setText(notice, message.notice ?? '');
  empty.hidden = message.rows.length > 0;
  clearButton.disabled = message.clearable === 0;
  clearButton.title =
    message.clearable === 0
      ? 'Nothing to clear'
      : `Remove ${message.clearable} completed or cancelled ${message.clearable === 1 ? 'download' : 'downloads'} from the list (files stay on disk)`;
  const seen = new Set<string>();
  let previous: Element | null = null;
  for (const row of message.rows) {
    seen.add(row.id);
    let r = rows.get(row.id);
    if (r === undefined) {
      r = createRow(row.id);
      rows.set(row.id, r);
    }
    renderRow(r, row);
    renderMap(r, message.segmentMaps[row.id]);
    // Move only rows that are out of place, so a focused button is not detached needlessly.
    const wanted: Element | null = previous === null ? list.firstElementChild : previous.nextElementSibling;
    if (wanted !== r.item) list.insertBefore(r.item, wanted);
    previous = r.item;
  }
  for (const [id, r] of rows) {
    if (!seen.has(id)) {
      r.item.remove();
      rows.delete(id);
    }
  }
  applyFilter();
}

function isExtensionMessage(data: unknown): data is ExtensionMessage {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'state' && Array.isArray((data as { rows?: unknown }).rows);
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  if (isExtensionMessage(event.data)) render(event.data);
});

// One delegated listener for every button: the row's id comes from the DOM the script built.
document.body.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest('button') : null;
  if (target === null) return;
  const command = target.dataset['command'];
  if (command === 'downloadUrl' || command === 'pauseAll' || command === 'resumeAll' || command === 'clearCompleted') {
    vscode.postMessage({ type: 'command', command });
    return;
  }
  const action = target.dataset['action'] as DownloadAction | undefined;
  const id = target.closest<HTMLElement>('li.download')?.dataset['id'];
  if (action !== undefined && id !== undefined) vscode.postMessage({ type: 'action', action, id });
});

// ---- the filter box ----

function saveState(): void {
  // The serializer restores the panel after a reload only if the webview ever saved a state.
  vscode.setState({ version: 1, filter: filter.value });
}

filter.addEventListener('input', () => {
  applyFilter();
  saveState();
});
filter.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && filter.value !== '') {
    filter.value = '';
    applyFilter();
    saveState();
    event.stopPropagation();
  }
});
// "/" jumps to the filter from anywhere in the panel (as in many web apps), unless typing already.
document.addEventListener('keydown', (event) => {
  if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement) return;
  event.preventDefault();
  filter.focus();
  filter.select();
});

// ---- the drop target ----

/** True when a drag carries something the panel takes: links or text. */
function carriesLinks(data: DataTransfer | null): boolean {
  if (data === null) return false;
  const types = Array.from(data.types);
  return types.includes('text/uri-list') || types.includes('text/plain');
}

let dragDepth = 0;
function setDropActive(active: boolean): void {
  document.body.classList.toggle('drop-active', active);
  dropHint.hidden = !active;
}

// Text dropped on the filter box goes into the box, as in any text field.
const onFilter = (event: DragEvent): boolean => event.target === filter;

document.addEventListener('dragenter', (event) => {
  if (onFilter(event) || !carriesLinks(event.dataTransfer)) return;
  event.preventDefault();
  dragDepth++;
  setDropActive(true);
});
document.addEventListener('dragover', (event) => {
  if (onFilter(event) || !carriesLinks(event.dataTransfer)) return;
  // Without this the browser refuses the drop (or navigates to the link).
  event.preventDefault();
  if (event.dataTransfer !== null) event.dataTransfer.dropEffect = 'copy';
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) setDropActive(false);
});
document.addEventListener('drop', (event) => {
  dragDepth = 0;
  setDropActive(false);
  const data = event.dataTransfer;
  if (onFilter(event) || !carriesLinks(data)) return;
  event.preventDefault();
  const uriList = data!.getData('text/uri-list');
  const text = data!.getData('text/plain');
  if (uriList.length > MAX_DROP_LENGTH || text.length > MAX_DROP_LENGTH) {
    setText(notice, 'That drop is too large to be a list of links; drop fewer at a time.');
    return;
  }
  if (uriList === '' && text === '') return;
  vscode.postMessage({ type: 'drop', uriList, text });
});

saveState();
applyFilter();
vscode.postMessage({ type: 'ready' });
