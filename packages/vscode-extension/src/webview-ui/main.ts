/**
 * The Downloads panel's script (bundled to media/panel.js). It only places text the extension
 * computed (the view model) into the DOM, always with `textContent`, and posts typed messages back;
 * the extension validates them again, because a webview is a web page.
 *
 * Rows are updated in place, keyed by download id, so progress updates several times a second
 * never steal keyboard focus or reset a screen reader's position.
 */
import type { ExtensionMessage, WebviewMessage } from '../webview/messages';
import type { DownloadAction, DownloadRow } from '../model/viewModel';
import { ACTION_LABELS } from '../model/viewModel';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const list = document.getElementById('downloads') as HTMLUListElement;
const summary = document.getElementById('summary') as HTMLElement;
const notice = document.getElementById('notice') as HTMLElement;
const empty = document.getElementById('empty') as HTMLElement;

interface RowElements {
  item: HTMLLIElement;
  name: HTMLElement;
  state: HTMLElement;
  progress: HTMLProgressElement;
  bytes: HTMLElement;
  speed: HTMLElement;
  eta: HTMLElement;
  connections: HTMLElement;
  error: HTMLElement;
  url: HTMLElement;
  actions: HTMLElement;
  actionKey: string;
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
  const meta = el('div', 'meta');
  const bytes = el('span', 'bytes');
  const speed = el('span', 'speed');
  const eta = el('span', 'eta');
  const connections = el('span', 'connections');
  meta.append(bytes, speed, eta, connections);
  const error = el('div', 'error');
  error.setAttribute('role', 'alert');
  const url = el('div', 'url');
  const actions = el('div', 'actions');
  actions.setAttribute('role', 'group');
  item.append(head, progress, meta, error, url, actions);
  return { item, name, state, progress, bytes, speed, eta, connections, error, url, actions, actionKey: '' };
}

function renderActions(r: RowElements, row: DownloadRow): void {
  const key = row.actions.join(',');
  if (key === r.actionKey) return;
  // Keep focus on the same action if it survives the change (Pause → Resume moves it to the first).
  const focused = document.activeElement instanceof HTMLButtonElement && r.actions.contains(document.activeElement)
    ? (document.activeElement.dataset['action'] ?? '')
    : undefined;
  r.actions.replaceChildren(
    ...row.actions.map((action: DownloadAction) => {
      const b = el('button', action === 'remove' || action === 'cancel' ? 'secondary' : '');
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

function renderRow(r: RowElements, row: DownloadRow): void {
  r.item.dataset['state'] = row.state;
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
  setText(r.error, row.errorText);
  setText(r.url, row.url);
  renderActions(r, row);
}

function render(message: ExtensionMessage): void {
  setText(summary, message.summary);
  setText(notice, message.notice ?? '');
  empty.hidden = message.rows.length > 0;
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
  if (command === 'downloadUrl' || command === 'pauseAll' || command === 'resumeAll') {
    vscode.postMessage({ type: 'command', command });
    return;
  }
  const action = target.dataset['action'] as DownloadAction | undefined;
  const id = target.closest<HTMLElement>('li.download')?.dataset['id'];
  if (action !== undefined && id !== undefined) vscode.postMessage({ type: 'action', action, id });
});

// The serializer restores the panel after a reload only if the webview ever saved a state.
vscode.setState({ version: 1 });
vscode.postMessage({ type: 'ready' });
