/**
 * The Downloads panel's own actions: per row (beyond pause/resume/cancel/retry/remove/open/reveal)
 * copy the URL, delete the file, download again, and a download's own speed limit and connections;
 * for the panel, Clear completed and adding dropped links. Each asks the user what it needs (a
 * modal confirmation names the file before anything is deleted or replaced) and then asks the
 * service; nothing here decides how a download runs.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  AddRequest,
  ClearCompletedRequest,
  PauseRequest,
  RemoveRequest,
  ResumeRequest,
  SetConnectionsRequest,
  SetRateLimitRequest,
  type AddParams,
  type DownloadCredentials,
  type DownloadInfo,
} from '@multiget/server/protocol';
import { formatRateSetting, formatSpeed, parseRate, validateConnections } from '../model/format';
import { copyableUrl } from '../model/copyableUrl';
import { displayName } from '../model/viewModel';
import { isActive, type DownloadStore } from '../model/DownloadStore';
import type { ServiceConnection } from '../service/ServiceConnection';
import { urlsFromDrop } from './drop';
import { addDownloads, type AddDeps } from '../addDownloads';

/** What the panel's actions need from the extension. */
export interface PanelActionHost {
  readonly store: DownloadStore;
  connection: Pick<ServiceConnection, 'request'>;
  /** Stored credentials for a URL's host, if any. */
  credentialsFor(url: string): Promise<DownloadCredentials | undefined>;
  /** `multiget.connections`: what a download without its own number uses. */
  defaultConnections(): number;
  /** The absolute configured download folder. */
  downloadFolder(): string;
  /** URL schemes the running service serves, if known. */
  schemes(): readonly string[] | undefined;
}

/** Puts the download's URL (never its credentials) on the clipboard. */
export async function copyUrl(d: DownloadInfo): Promise<void> {
  await vscode.env.clipboard.writeText(copyableUrl(d.url));
  vscode.window.setStatusBarMessage(`$(check) Multiget: copied the URL of ${displayName(d)}`, 4000);
}

async function lstatOrUndefined(file: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fs.lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Deletes a completed download's file after a modal confirmation that names it, then takes the
 * row out of the list. Only a regular file is deleted: a link or folder now at that path is not
 * what Multiget wrote, so it is left alone.
 */
export async function deleteFile(host: PanelActionHost, d: DownloadInfo): Promise<void> {
  if (d.state !== 'completed' || d.file === null) {
    void vscode.window.showWarningMessage('Multiget: only a completed download’s file can be deleted.');
    return;
  }
  const name = displayName(d);
  const choice = await vscode.window.showWarningMessage(
    `Delete “${name}” from disk?`,
    { modal: true, detail: `${d.file}\n\nThe file is deleted permanently (not moved to the trash) and the download leaves the list.` },
    'Delete File',
  );
  if (choice !== 'Delete File') return;
  const stat = await lstatOrUndefined(d.file);
  if (stat !== undefined && !stat.isFile()) {
    void vscode.window.showErrorMessage(`Multiget did not delete ${d.file}: it is no longer a regular file (a link or a folder is there now).`);
    return;
  }
  if (stat !== undefined) await fs.unlink(d.file);
  await host.connection.request(RemoveRequest.type, { id: d.id });
  host.store.removed(d.id);
  vscode.window.setStatusBarMessage(`$(trash) Multiget: deleted ${name}`, 4000);
}

/**
 * A new download of a completed download's URL. When its file is still there the user chooses:
 * a new file under a free name next to it, or replacing it (the old file stays until the new copy
 * is complete and verified, then the new one takes its name). Resolves the new download's id.
 */
export async function redownload(host: PanelActionHost, d: DownloadInfo): Promise<string | undefined> {
  const name = displayName(d);
  const params: AddParams = { url: d.url };
  const exists = d.file !== null && (await lstatOrUndefined(d.file)) !== undefined;
  if (d.file !== null && exists) {
    const asNew = 'Save as New File';
    const replace = 'Replace';
    const choice = await vscode.window.showInformationMessage(
      `Download “${name}” again?`,
      {
        modal: true,
        detail: `${d.file} exists.\n\n“${asNew}” saves the new copy under a free name next to it. “${replace}” replaces the file once the new copy is complete.`,
      },
      asNew,
      replace,
    );
    if (choice === undefined) return undefined;
    if (choice === replace) {
      params.output = d.file;
      params.existing = 'overwrite';
    } else {
      params.dir = path.dirname(d.file);
    }
  } else if (d.file !== null) {
    params.output = d.file;
  }
  const credentials = await host.credentialsFor(d.url);
  if (credentials !== undefined) params.credentials = credentials;
  const { id, download } = await host.connection.request(AddRequest.type, params);
  host.store.changed(download);
  return id;
}

/**
 * Asks for a download's own speed limit and connections and applies them. The speed limit takes
 * effect at once. A transfer fixes its connections when it starts, so for a running download the
 * new number applies from its next start, which the user may trigger at once ("Restart Now":
 * pause and resume, keeping the data).
 */
export async function setLimits(host: PanelActionHost, d: DownloadInfo): Promise<void> {
  const name = displayName(d);
  const rate = await vscode.window.showInputBox({
    title: `Multiget: speed limit for ${name}`,
    prompt: 'Bytes per second, e.g. 500K or 2M (1K = 1024). Empty: no limit of its own (the global multiget.rateLimit still applies).',
    value: d.rateLimit === null ? '' : formatRateSetting(d.rateLimit),
    ignoreFocusOut: true,
    validateInput: (v) => (parseRate(v) === undefined ? 'A rate such as 500K, 2M or 1048576, or empty for no limit.' : undefined),
  });
  if (rate === undefined) return;
  const running = isActive(d.state);
  const shown = running && d.connections > 0 ? d.connections : host.defaultConnections();
  const connections = await vscode.window.showInputBox({
    title: `Multiget: connections for ${name}`,
    prompt: running
      ? 'Connections for this download (1–256). A running download keeps its connections until it next starts; you can restart it now.'
      : 'Connections for this download (1–256).',
    value: String(shown),
    ignoreFocusOut: true,
    validateInput: validateConnections,
  });
  if (connections === undefined) return;
  const rateLimit = parseRate(rate) ?? null;
  const { download: limited } = await host.connection.request(SetRateLimitRequest.type, { id: d.id, rateLimit });
  host.store.changed(limited);
  const wanted = Number(connections.trim());
  const limitWords = rateLimit === null ? 'no speed limit of its own' : `a speed limit of ${formatSpeed(rateLimit)}`;
  if (wanted === shown) {
    vscode.window.setStatusBarMessage(`Multiget: ${name} has ${limitWords}.`, 4000);
    return;
  }
  const { download: after } = await host.connection.request(SetConnectionsRequest.type, { id: d.id, connections: wanted });
  host.store.changed(after);
  if (!running) {
    vscode.window.setStatusBarMessage(`Multiget: ${name} has ${limitWords} and will use ${wanted} connections.`, 4000);
    return;
  }
  const restart = 'Restart Now';
  const choice = await vscode.window.showInformationMessage(
    `Multiget: ${name} has ${limitWords}; ${wanted} connections apply when it next starts.`,
    restart,
  );
  if (choice !== restart) return;
  const { download: paused } = await host.connection.request(PauseRequest.type, { id: d.id });
  host.store.changed(paused);
  const credentials = await host.credentialsFor(d.url);
  const { download: resumed } = await host.connection.request(ResumeRequest.type, { id: d.id, ...(credentials !== undefined ? { credentials } : {}) });
  host.store.changed(resumed);
}

/** "Clear completed": completed and cancelled downloads leave the list and the history; files stay. */
export async function clearCompleted(host: PanelActionHost): Promise<void> {
  const { ids } = await host.connection.request(ClearCompletedRequest.type);
  for (const id of ids) host.store.removed(id);
}

/**
 * Adds the URLs of something dropped on the panel (a link from a browser or an editor, or text
 * with URLs), each validated, each its own download into the download folder; a warning names what
 * was not added. Resolves the new ids.
 */
export async function addDropped(host: PanelActionHost, uriList: string, text: string): Promise<string[]> {
  const { urls, refused } = urlsFromDrop(uriList, text, host.schemes());
  const failures = refused.map((r) => `${r.item}: ${r.reason}`);
  let added: string[] = [];
  if (urls.length > 0) {
    // As a paste: one request to the service for the lot, a URL at a time only if it refuses one.
    const deps: AddDeps = {
      connection: host.connection,
      credentials: { forUrl: (url) => host.credentialsFor(url) },
      store: host.store,
      defaultFolder: () => host.downloadFolder(),
    };
    const outcome = await addDownloads(deps, { urls, skipped: [] });
    added = outcome.ids;
    for (const r of outcome.refused) failures.push(`${r.url}: ${r.reason}`);
  }
  if (urls.length === 0 && refused.length === 0) {
    void vscode.window.showInformationMessage('Multiget: the dropped text holds no http, https, ftp, ftps or sftp URL.');
  } else if (failures.length > 0) {
    const head = added.length > 0 ? `added ${added.length}, ` : '';
    const more = failures.length > 3 ? '; …' : '';
    void vscode.window.showWarningMessage(`Multiget: ${head}not added ${failures.length}: ${failures.slice(0, 3).join('; ')}${more}`);
  }
  return added;
}
