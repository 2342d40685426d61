import * as os from 'node:os';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CancelRequest,
  ChangedNotification,
  HistoryAddedNotification,
  HistoryRequest,
  ListRequest,
  LogNotification,
  PauseAllRequest,
  PauseRequest,
  ProgressNotification,
  RemoveRequest,
  RemovedNotification,
  ResumeAllRequest,
  ResumeRequest,
  RetryRequest,
  SetLogLevelRequest,
  SetSettingsRequest,
  StatusRequest,
  UpdateUrlRequest,
  type AddFolderResult,
  type DownloadCredentials,
  type DownloadInfo,
  type ServiceInfo,
} from '@multiget/server/protocol';
import { redactUrl } from '@multiget/server/redact';
import { addDownloads, type AddDeps } from './addDownloads';
import { addFolder, type FolderRequest } from './addFolder';
import { CredentialResumer } from './credentialResume';
import { CredentialStore } from './credentials';
import { promptForDownload, urlOnClipboard, type DownloadRequest } from './downloadUrl';
import { promptForFolder } from './downloadFolder';
import { folderSummary, validateFolderUrl } from './model/folder';
import { FolderBatches, folderOutcomeMessage, type FolderOutcome } from './model/folderBatches';
import { cancelQuestion, removeQuestion } from './model/confirm';
import { describeFailure } from './model/errorText';
import { validateFileName } from './model/fileName';
import { DownloadStore, type StateTransition } from './model/DownloadStore';
import { InsightStore } from './model/insight';
import { parseRate } from './model/format';
import { channelMethod, serviceLogLevel } from './model/logLevel';
import { readSettings, resolveDownloadFolder, toServiceSettings, type ExtensionSettings } from './model/settings';
import { addSummary, credentialHost, findUrl, normalizeHost, urlAt, validateDownloadUrl, validateHost } from './model/url';
import { ACTION_LABELS, actionsFor, displayName, isClearable, isLinkExpired, summaryText, toRows, totals, type DownloadAction } from './model/viewModel';
import { describeRequestError, errorCodeOf } from './service/requests';
import { ServiceConnection, type ServiceStatus } from './service/ServiceConnection';
import { openFile, revealFile, revealLabel } from './ui/files';
import { trustHostKey } from './trustHostKey';
import { StatusBar } from './ui/StatusBar';
import { DownloadsPanel, PANEL_VIEW_TYPE, type PanelHost } from './webview/DownloadsPanel';
import { isDownloadId, parseWebviewMessage, type ExtensionMessage, type PanelCommand, type WebviewMessage } from './webview/messages';
import { addDropped, clearCompleted, copyUrl, deleteFile, redownload, setLimits, type PanelActionHost } from './webview/panelActions';
import { exportTrace } from './webview/exportTrace';

async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** Every command the extension contributes, by id. */
export const COMMANDS = {
  downloadUrl: 'multiget.downloadUrl',
  downloadUrlAtCursor: 'multiget.downloadUrlAtCursor',
  downloadRemoteFolder: 'multiget.downloadRemoteFolder',
  showDownloads: 'multiget.showDownloads',
  pauseAll: 'multiget.pauseAll',
  resumeAll: 'multiget.resumeAll',
  pause: 'multiget.pause',
  resume: 'multiget.resume',
  cancel: 'multiget.cancel',
  retry: 'multiget.retry',
  remove: 'multiget.remove',
  open: 'multiget.open',
  reveal: 'multiget.reveal',
  copyUrl: 'multiget.copyUrl',
  deleteFile: 'multiget.deleteFile',
  redownload: 'multiget.redownload',
  setLimits: 'multiget.setLimits',
  clearCompleted: 'multiget.clearCompleted',
  setCredentials: 'multiget.setCredentials',
  setCredentialsAndRetry: 'multiget.setCredentialsAndRetry',
  trustHostKey: 'multiget.trustHostKey',
  updateUrl: 'multiget.updateUrl',
  exportTrace: 'multiget.exportTrace',
  restartService: 'multiget.restartService',
  showLog: 'multiget.showLog',
} as const;

const ACTION_COMMANDS: Readonly<Record<DownloadAction, string>> = {
  pause: COMMANDS.pause,
  resume: COMMANDS.resume,
  cancel: COMMANDS.cancel,
  retry: COMMANDS.retry,
  remove: COMMANDS.remove,
  open: COMMANDS.open,
  reveal: COMMANDS.reveal,
  copyUrl: COMMANDS.copyUrl,
  deleteFile: COMMANDS.deleteFile,
  redownload: COMMANDS.redownload,
  limits: COMMANDS.setLimits,
  setCredentials: COMMANDS.setCredentialsAndRetry,
  trustHostKey: COMMANDS.trustHostKey,
  updateUrl: COMMANDS.updateUrl,
  exportTrace: COMMANDS.exportTrace,
};

/** How often an open panel asks for the service's resource use while nothing transfers. */
const INSIGHT_REFRESH_MS = 5000;

/** Options `multiget.downloadUrl` accepts from another extension, a keybinding or a test. */
export interface DownloadUrlArgs {
  url: string;
  /** Absolute folder; default: the configured one. */
  dir?: string;
  /** `algo=hex`. */
  checksum?: string;
  /** The file name to save as (one path component) in `dir`; the file must not exist. */
  fileName?: string;
}

function isDownloadUrlArgs(value: unknown): value is DownloadUrlArgs {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['url'] === 'string' &&
    (v['dir'] === undefined || typeof v['dir'] === 'string') &&
    (v['checksum'] === undefined || typeof v['checksum'] === 'string') &&
    (v['fileName'] === undefined || typeof v['fileName'] === 'string')
  );
}

/** Options `multiget.downloadRemoteFolder` accepts from another extension or a test. */
export interface DownloadFolderArgs {
  /** The remote folder (ftp, ftps, sftp). */
  url: string;
  /** Absolute folder to save it in (as a subfolder of its name); default: the configured one. */
  dir?: string;
}

function isFolderArgs(value: unknown): value is DownloadFolderArgs {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['url'] === 'string' && (v['dir'] === undefined || typeof v['dir'] === 'string');
}

/**
 * The extension's parts wired together: the service connection and the download list it feeds,
 * the panel, the status bar, notifications, settings and commands. Every action goes to the
 * service; nothing here decides how a download runs.
 */
export class Controller implements vscode.Disposable, PanelHost {
  readonly store = new DownloadStore();
  readonly connection: ServiceConnection;
  readonly statusBar: StatusBar;
  readonly credentials: CredentialStore;
  readonly output: vscode.LogOutputChannel;
  readonly #disposables: vscode.Disposable[] = [];
  readonly #resumer: CredentialResumer;
  /** Segment maps and the service's resource use, for the panel. */
  readonly #insight = new InsightStore();
  /** The downloads of each "Download Folder…", so that a folder says it is done once, not per file. */
  readonly #folders = new FolderBatches();
  #warnedRate = '';

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Multiget', { log: true });
    this.credentials = new CredentialStore(context.secrets);
    this.statusBar = new StatusBar(COMMANDS.showDownloads);
    this.connection = new ServiceConnection({
      serverModule: context.asAbsolutePath(path.join('dist', 'server.mjs')),
      stateDir: path.join(context.globalStorageUri.fsPath, 'service'),
      downloadDir: () => this.downloadFolder(),
      httpSettings: () => {
        const http = vscode.workspace.getConfiguration('http');
        return {
          proxy: http.get<string>('proxy') ?? '',
          proxyStrictSSL: http.get<boolean>('proxyStrictSSL') ?? true,
          noProxy: http.get<string[]>('noProxy') ?? [],
        };
      },
      runtimeSetting: () => vscode.workspace.getConfiguration('multiget').get<string>('serverRuntime') ?? '',
      output: this.output,
      onReady: (info) => this.#onServiceReady(info),
    });
    this.connection.onNotification(ProgressNotification.type, (progress) => {
      this.#insight.progress(progress);
      this.store.progress(progress.downloads);
    });
    this.#resumer = new CredentialResumer({
      connection: this.connection,
      credentials: this.credentials,
      changed: (download) => this.store.changed(download),
      missing: (download) => this.#askForMissingCredentials(download),
      log: (line) => this.output.info(line),
    });
    this.connection.onNotification(ChangedNotification.type, ({ download }) => {
      this.store.changed(download);
      this.#resumer.check([download]);
    });
    this.connection.onNotification(RemovedNotification.type, ({ id }) => this.store.removed(id));
    this.connection.onNotification(HistoryAddedNotification.type, ({ entry }) => this.store.historyAdded(entry));
    // The service's own log, in this channel, at the channel's level (the service sends only that much).
    this.connection.onNotification(LogNotification.type, ({ level, message }) => this.output[channelMethod(level)](`[service] ${message}`));
    this.#disposables.push(this.output.onDidChangeLogLevel(() => void this.#pushLogLevel()));
    this.#disposables.push(this.output, this.statusBar, this.connection);
  }

  /** Registers everything and starts the service. */
  activate(): void {
    const register = (id: string, fn: (...args: unknown[]) => unknown): void => {
      this.#disposables.push(vscode.commands.registerCommand(id, fn));
    };
    const insightTimer = setInterval(() => void this.#refreshInsight(), INSIGHT_REFRESH_MS);
    this.#disposables.push({ dispose: () => clearInterval(insightTimer) });
    register(COMMANDS.downloadUrl, (arg) => this.downloadUrl(arg));
    register(COMMANDS.downloadUrlAtCursor, () => this.downloadUrlAtCursor());
    register(COMMANDS.downloadRemoteFolder, (arg) => this.downloadRemoteFolder(arg));
    register(COMMANDS.showDownloads, () => this.showPanel(false));
    register(COMMANDS.pauseAll, () => this.#run(() => this.connection.request(PauseAllRequest.type)));
    register(COMMANDS.resumeAll, () => this.#run(() => this.connection.request(ResumeAllRequest.type)));
    for (const action of Object.keys(ACTION_COMMANDS) as DownloadAction[]) {
      register(ACTION_COMMANDS[action], (id, options) => this.act(action, id, options));
    }
    register(COMMANDS.clearCompleted, () => this.clearCompleted());
    register(COMMANDS.setCredentials, (host, credentials) => this.setCredentials(host, credentials));
    register(COMMANDS.restartService, () => this.connection.restart());
    register(COMMANDS.showLog, () => this.output.show(true));

    this.#disposables.push(
      vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => {
          DownloadsPanel.revive(panel, this.context.extensionUri, this);
        },
      }),
      this.connection.onDidChangeStatus((status) => this.#onStatus(status)),
      vscode.workspace.onDidChangeConfiguration((e) => this.#onConfiguration(e)),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.#pushSettings()),
    );
    this.store.onDidChange((change) => {
      this.#refreshViews();
      for (const t of change.transitions) this.#notify(t);
    });
    this.#refreshViews();
    void this.connection.start();
  }

  /** Stops the service in order; deactivate waits for it. */
  async deactivate(): Promise<void> {
    await this.connection.stop();
    this.dispose();
  }

  dispose(): void {
    for (const d of this.#disposables.splice(0)) d.dispose();
  }

  /** The absolute configured download folder. */
  downloadFolder(): string {
    return resolveDownloadFolder(this.settings().downloadFolder, {
      home: os.homedir(),
      workspaceFolder: vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath,
    });
  }

  /** The `multiget.*` settings. */
  settings(): ExtensionSettings {
    const config = vscode.workspace.getConfiguration('multiget');
    return readSettings((key) => config.get(key));
  }

  // ---- PanelHost ----

  currentState(): ExtensionMessage {
    const downloads = this.store.all();
    const status = this.connection.status;
    const notice =
      status.kind === 'running' ? null
      : status.kind === 'starting' ? 'Connecting to the Multiget service…'
      : status.kind === 'failed' ? status.message
      : 'The Multiget service is stopped.';
    return {
      type: 'state',
      rows: toRows(downloads, this.store.finishedAt()),
      summary: summaryText(totals(downloads)),
      notice,
      clearable: downloads.filter(isClearable).length,
      ...this.#insight.view(downloads),
    };
  }

  async handle(message: WebviewMessage): Promise<void> {
    if (message.type === 'action') {
      // The id comes from a web page: act only on a download the service told us about.
      if (this.store.get(message.id) === undefined) {
        this.output.warn(`Ignored a panel action for an unknown download id ${message.id}`);
        return;
      }
      await this.act(message.action, message.id);
      return;
    }
    if (message.type === 'command') await this.#panelCommand(message.command);
    if (message.type === 'drop') await this.addDropped(message.uriList, message.text);
  }

  rejected(raw: unknown): void {
    let shown: string;
    try {
      shown = JSON.stringify(raw)?.slice(0, 200) ?? String(raw);
    } catch {
      shown = Object.prototype.toString.call(raw);
    }
    this.output.warn(`Ignored a malformed message from the Downloads panel: ${shown}`);
  }

  /**
   * Feeds a raw message through the panel's validation, as if the webview had posted it (for the
   * in-host tests). Resolves whether it was accepted.
   */
  async receivePanelMessage(raw: unknown): Promise<boolean> {
    const message = parseWebviewMessage(raw);
    if (message === undefined) {
      this.rejected(raw);
      return false;
    }
    if (message.type !== 'ready') await this.handle(message);
    return true;
  }

  async #panelCommand(command: PanelCommand): Promise<void> {
    switch (command) {
      case 'downloadUrl':
        await this.downloadUrl(undefined);
        return;
      case 'pauseAll':
        await this.#run(() => this.connection.request(PauseAllRequest.type));
        return;
      case 'resumeAll':
        await this.#run(() => this.connection.request(ResumeAllRequest.type));
        return;
      case 'clearCompleted':
        await this.clearCompleted();
    }
  }

  // ---- commands ----

  /** Shows the Downloads panel (keeping the focus where it is when `preserveFocus`). */
  showPanel(preserveFocus: boolean): DownloadsPanel {
    const panel = DownloadsPanel.createOrShow(this.context.extensionUri, this, preserveFocus);
    void this.#refreshInsight();
    return panel;
  }

  /**
   * Asks the service for its resource use (and segment maps) for the panel's footer: progress
   * notifications carry them only while something transfers, so an idle panel asks now and then.
   */
  async #refreshInsight(): Promise<void> {
    if (this.connection.status.kind !== 'running' || DownloadsPanel.current?.panel.visible !== true) return;
    try {
      this.#insight.status(await this.connection.request(StatusRequest.type));
      DownloadsPanel.current?.update();
    } catch (err) {
      // An older service without multiget/status: the footer stays empty.
      this.output.debug(`multiget/status: ${describeRequestError(err)}`);
    }
  }

  /**
   * "Download URL". With a string or `{ url, dir?, checksum? }` argument it downloads without asking
   * (other extensions, keybindings, tests); otherwise it asks. Resolves the download's id.
   */
  async downloadUrl(arg: unknown, initial?: string): Promise<string | undefined> {
    const schemes = this.#schemes();
    const settings = this.settings();
    let request: DownloadRequest | undefined;
    if (typeof arg === 'string' || isDownloadUrlArgs(arg)) {
      const args: DownloadUrlArgs = typeof arg === 'string' ? { url: arg } : arg;
      const problem = validateDownloadUrl(args.url, schemes) ?? (args.fileName !== undefined ? validateFileName(args.fileName) : undefined);
      if (problem !== undefined) {
        void vscode.window.showErrorMessage(`Multiget: ${problem}`);
        return undefined;
      }
      request = {
        urls: [args.url.trim()],
        skipped: [],
        ...(args.dir !== undefined ? { dir: args.dir } : {}),
        ...(args.checksum !== undefined ? { checksum: args.checksum } : {}),
        ...(args.fileName !== undefined ? { fileName: args.fileName.trim() } : {}),
      };
    } else {
      request = await promptForDownload({
        folder: this.downloadFolder(),
        schemes,
        askForFolder: settings.askForFolder,
        askForChecksum: settings.askForChecksum,
        ...(initial !== undefined ? { initial } : {}),
      });
      if (request === undefined) return undefined;
    }
    return await this.#add(request);
  }

  /** What adding downloads needs from this window: the service, the credentials, the list and the settings. */
  #addDeps(): AddDeps {
    return {
      connection: this.connection,
      credentials: this.credentials,
      store: this.store,
      defaultFolder: () => this.downloadFolder(),
      checksumMode: () => this.settings().checksum,
    };
  }

  /**
   * Adds what the box produced; one summary line for a paste of several. When nothing could be
   * added because of the service (not the URLs), the error offers Retry with the same request.
   */
  async #add(request: DownloadRequest): Promise<string | undefined> {
    const { ids, refused } = await addDownloads(this.#addDeps(), request);
    for (const r of refused) this.output.error(`multiget/add refused ${r.url}: ${r.reason}`);
    const several = request.urls.length + request.skipped.length > 1;
    if (ids.length === 0 && refused.length > 0) {
      const reason = several ? addSummary(0, [...request.skipped, ...refused]) : refused[0]!.reason;
      const retry = { ...request, urls: refused.map((r) => r.url), skipped: [] };
      void vscode.window.showErrorMessage(`Multiget could not add the download${several ? 's' : ''}: ${reason}`, 'Retry').then(async (choice) => {
        if (choice === 'Retry') await this.#add(retry);
      });
      return undefined;
    }
    if (several) {
      const summary = addSummary(ids.length, [...request.skipped, ...refused]);
      const show = refused.length + request.skipped.length > 0 ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
      void show(`Multiget: ${summary}`);
    }
    if (ids.length > 0 && vscode.workspace.getConfiguration('multiget').get<boolean>('showPanelOnStart') !== false) this.showPanel(true);
    return ids[0];
  }

  /**
   * "Download Folder…": a remote folder (ftp, ftps, sftp) and its subfolders, one download per file,
   * through `multiget/addFolder`. With a string or `{ url, dir? }` argument it downloads without
   * asking (other extensions, tests); otherwise it asks as "Download URL" does. Tells the user how
   * many files it queued; resolves the service's answer (`undefined` when cancelled or refused).
   */
  async downloadRemoteFolder(arg: unknown): Promise<AddFolderResult | undefined> {
    const schemes = this.#schemes();
    let request: FolderRequest | undefined;
    if (typeof arg === 'string' || isFolderArgs(arg)) {
      request = typeof arg === 'string' ? { url: arg.trim() } : { url: arg.url.trim(), ...(arg.dir !== undefined ? { dir: arg.dir } : {}) };
      const problem = validateFolderUrl(request.url, schemes);
      if (problem !== undefined) {
        void vscode.window.showErrorMessage(`Multiget: ${problem}`);
        return undefined;
      }
    } else {
      request = await promptForFolder({ folder: this.downloadFolder(), schemes, askForFolder: this.settings().askForFolder });
      if (request === undefined) return undefined;
    }
    return await this.#addFolder(request);
  }

  async #addFolder(request: FolderRequest): Promise<AddFolderResult | undefined> {
    let result: AddFolderResult;
    try {
      result = await addFolder(this.#addDeps(), request);
    } catch (err) {
      const shown = redactUrl(request.url);
      this.output.error(`multiget/addFolder refused ${shown}: ${describeRequestError(err)}`);
      // A listing fails as a download does (login, host key, network): the same words and remedies.
      const code = errorCodeOf(err);
      const error = code === undefined ? null : { code, message: err instanceof Error ? err.message : String(err) };
      const failure = error === null ? undefined : describeFailure(error, shown);
      const credentials = 'Set Credentials…';
      const trust = 'Trust This Host Key…';
      const remedies = failure?.remedies ?? ['retry'];
      const buttons =
        remedies.includes('setCredentials') ? [credentials, 'Retry']
        : remedies.includes('trustHostKey') ? [trust]
        : remedies.includes('retry') ? ['Retry']
        : [];
      const reason = failure?.line ?? describeRequestError(err);
      void vscode.window.showErrorMessage(`Multiget could not download the folder: ${reason}`, ...buttons).then(async (choice) => {
        const host = credentialHost(request.url);
        const again =
          choice === 'Retry' ||
          (choice === credentials && host !== undefined && (await this.setCredentials(host))) ||
          (choice === trust && (await trustHostKey({ url: request.url, error })));
        if (again) await this.#addFolder(request);
      });
      return undefined;
    }
    for (const s of result.skipped) this.output.warn(`multiget/addFolder skipped ${s.remotePath} of ${redactUrl(request.url)}: ${s.reason}`);
    const { message, warn } = folderSummary(result);
    void (warn ? vscode.window.showWarningMessage : vscode.window.showInformationMessage)(`Multiget: ${message}`);
    this.#folders.add(result.folder, result.downloads.map((d) => d.id));
    // A file so small that it finished before this answer was read counts at once.
    for (const d of result.downloads) {
      const now = this.store.get(d.id)?.state;
      if (now === 'completed' || now === 'failed' || now === 'canceled') this.#folderFileEnded(d.id, now);
    }
    if (result.downloads.length > 0 && vscode.workspace.getConfiguration('multiget').get<boolean>('showPanelOnStart') !== false) this.showPanel(true);
    return result;
  }

  /** The editor's context menu: the URL in the selection, or under the cursor. */
  async downloadUrlAtCursor(): Promise<string | undefined> {
    const editor = vscode.window.activeTextEditor;
    const schemes = this.#schemes();
    let url: string | undefined;
    if (editor !== undefined) {
      if (!editor.selection.isEmpty) url = findUrl(editor.document.getText(editor.selection), schemes);
      if (url === undefined) {
        const pos = editor.selection.active;
        url = urlAt(editor.document.lineAt(pos.line).text, pos.character, schemes);
      }
    }
    if (url === undefined) {
      void vscode.window.showInformationMessage('Multiget: there is no http, https, ftp, ftps or sftp URL under the cursor or in the selection.');
      return undefined;
    }
    return await this.downloadUrl(undefined, url);
  }

  /** A per-download action, by id (panel, palette with an argument) or picked from a list. */
  async act(action: DownloadAction, arg: unknown, options?: unknown): Promise<void> {
    let id: string | undefined = isDownloadId(arg) ? arg : undefined;
    if (id === undefined) id = await this.#pick(action);
    if (id === undefined) return;
    const download = this.store.get(id);
    switch (action) {
      case 'open':
      case 'reveal': {
        if (download?.file == null || download.state !== 'completed') {
          void vscode.window.showWarningMessage('Multiget: the file is not complete yet.');
          return;
        }
        if (!(await fileExists(download.file))) {
          await this.#fileMissing(download);
          return;
        }
        await (action === 'open' ? openFile(download.file) : revealFile(download.file));
        return;
      }
      case 'remove': {
        // `{ deleteData }` from a caller that already decided (another extension, a test).
        const given = typeof options === 'object' && options !== null ? (options as { deleteData?: unknown }).deleteData : undefined;
        let deleteData = typeof given === 'boolean' ? given : false;
        const question = download !== undefined && typeof given !== 'boolean' ? removeQuestion(download, displayName(download)) : { kind: 'none' as const };
        if (question.kind === 'partialData') {
          const remove = 'Remove and Delete Partial Data';
          const keep = 'Remove, Keep Partial Data';
          // Modal: the first button is the default, so Enter deletes what nothing could reach any more.
          const choice = await vscode.window.showWarningMessage(question.message, { modal: true, detail: question.detail }, remove, keep);
          if (choice === undefined) return;
          deleteData = choice === remove;
        }
        await this.#run(() => this.connection.request(RemoveRequest.type, { id, ...(deleteData ? { deleteData } : {}) }));
        return;
      }
      case 'setCredentials':
        await this.setCredentialsAndRetry(id);
        return;
      case 'trustHostKey':
        if (download !== undefined && (await trustHostKey(download))) await this.act('retry', id);
        return;
      case 'updateUrl':
        if (download !== undefined) await this.#updateUrl(download, options);
        return;
      case 'exportTrace':
        if (download !== undefined) await this.#run(() => exportTrace(this.connection, download, this.downloadFolder()));
        return;
      case 'copyUrl':
      case 'deleteFile':
      case 'redownload':
      case 'limits':
        if (download !== undefined) await this.#rowAction(action, download);
        return;
      case 'cancel': {
        const skipQuestion = typeof options === 'object' && options !== null && (options as { confirm?: unknown }).confirm === false;
        const question = download !== undefined && !skipQuestion ? cancelQuestion(download, displayName(download)) : undefined;
        if (question !== undefined) {
          const stop = 'Cancel and Delete';
          const choice = await vscode.window.showWarningMessage(question, { modal: true, detail: 'Pause keeps the data to resume later.' }, stop, 'Pause Instead');
          if (choice === undefined) return;
          if (choice === 'Pause Instead') return await this.act('pause', id);
        }
        await this.#run(async () => {
          const { download: after } = await this.connection.request(CancelRequest.type, { id });
          this.store.changed(after);
        });
        return;
      }
      case 'resume':
      case 'retry': {
        // The service holds credentials in memory only: after it restarted, a download that needs
        // them gets them again here, from SecretStorage.
        const credentials = download ? await this.credentials.forUrl(download.url) : undefined;
        await this.#run(async () => {
          const { download: after } = await this.connection.request(action === 'resume' ? ResumeRequest.type : RetryRequest.type, {
            id,
            ...(credentials !== undefined ? { credentials } : {}),
          });
          this.store.changed(after);
        });
        return;
      }
      case 'pause':
        await this.#run(async () => {
          const { download: after } = await this.connection.request(PauseRequest.type, { id });
          this.store.changed(after);
        });
    }
  }

  /**
   * "Set Credentials…" on a download that failed with 401/403 (or a login failure): asks for the
   * credentials of its host and, once they are stored, retries it with them, in one step.
   */
  async setCredentialsAndRetry(id: string): Promise<void> {
    const download = this.store.get(id);
    if (download === undefined) return;
    const host = credentialHost(download.url);
    if (host === undefined) return;
    if (await this.setCredentials(host)) await this.act('retry', id);
  }

  /**
   * "Set credentials for host…": stores a password or token in SecretStorage (or removes it).
   * A host alone pre-fills the host box. Resolves whether credentials were stored.
   */
  async setCredentials(hostArg?: unknown, credentialsArg?: unknown): Promise<boolean> {
    // Tests and other extensions may pass both; credentials `null` removes.
    if (typeof hostArg === 'string' && credentialsArg !== undefined) {
      const host = normalizeHost(hostArg);
      if (host === undefined) throw new Error(`Not a host: ${hostArg}`);
      if (credentialsArg === null) await this.credentials.delete(host);
      else await this.credentials.set(host, credentialsArg as DownloadCredentials);
      return credentialsArg !== null;
    }
    const known = await this.credentials.hosts();
    const hint = typeof hostArg === 'string' ? normalizeHost(hostArg) : await this.#urlHint().then((u) => (u !== undefined ? normalizeHost(u) : undefined));
    const hostText = await vscode.window.showInputBox({
      title: 'Multiget: credentials for a host (HTTP Basic or Bearer, FTP/FTPS login, SFTP password)',
      prompt: known.length > 0 ? `Host name (stored for: ${known.join(', ')})` : 'Host name, e.g. downloads.example.com or example.com:8443',
      value: hint ?? '',
      ignoreFocusOut: true,
      validateInput: validateHost,
    });
    if (hostText === undefined) return false;
    const host = normalizeHost(hostText)!;
    const kinds: Array<vscode.QuickPickItem & { kind2: 'basic' | 'bearer' | 'delete' }> = [
      { label: 'User name and password', description: 'HTTP Basic, FTP/FTPS login, SFTP password', kind2: 'basic' },
      { label: 'Bearer token', description: 'HTTP Authorization: Bearer (HTTP and HTTPS only)', kind2: 'bearer' },
    ];
    if (known.includes(host)) kinds.push({ label: 'Remove stored credentials', kind2: 'delete' });
    const kind = await vscode.window.showQuickPick(kinds, { title: `Multiget: credentials for ${host}`, ignoreFocusOut: true });
    if (kind === undefined) return false;
    if (kind.kind2 === 'delete') {
      await this.credentials.delete(host);
      void vscode.window.showInformationMessage(`Multiget: credentials for ${host} removed.`);
      return false;
    }
    const nonEmpty = (v: string): string | undefined => (v === '' ? 'Required.' : undefined);
    if (kind.kind2 === 'bearer') {
      const bearer = await vscode.window.showInputBox({ title: `Bearer token for ${host}`, password: true, ignoreFocusOut: true, validateInput: nonEmpty });
      if (bearer === undefined) return false;
      await this.credentials.set(host, { bearer });
    } else {
      const username = await vscode.window.showInputBox({ title: `User name for ${host}`, ignoreFocusOut: true, validateInput: nonEmpty });
      if (username === undefined) return false;
      const password = await vscode.window.showInputBox({ title: `Password for ${username}@${host}`, password: true, ignoreFocusOut: true });
      if (password === undefined) return false;
      await this.credentials.set(host, { username, password });
    }
    void vscode.window.showInformationMessage(`Multiget: credentials for ${host} are stored in VS Code's secret storage.`);
    return true;
  }

  /** "Clear completed": completed and cancelled downloads leave the list and the history; files stay. */
  async clearCompleted(): Promise<void> {
    await this.#run(() => clearCompleted(this.#panelActionHost()));
  }

  /** Adds the links dropped on the panel (each validated, each its own download); resolves the ids. */
  async addDropped(uriList: string, text: string): Promise<string[]> {
    return await addDropped(this.#panelActionHost(), uriList, text);
  }

  // ---- internals ----

  /** A completed download's file was moved or deleted outside Multiget: say so, offer what helps. */
  async #fileMissing(download: DownloadInfo): Promise<void> {
    const again = 'Download Again…';
    const remove = 'Remove from List';
    const choice = await vscode.window.showWarningMessage(`Multiget: ${download.file} is no longer there (moved or deleted).`, again, remove);
    if (choice === again) await this.act('redownload', download.id);
    if (choice === remove) await this.act('remove', download.id);
  }

  #panelActionHost(): PanelActionHost {
    return {
      store: this.store,
      connection: this.connection,
      credentialsFor: (url) => this.credentials.forUrl(url),
      defaultConnections: () => this.settings().connections,
      downloadFolder: () => this.downloadFolder(),
      schemes: () => this.#schemes(),
    };
  }

  async #rowAction(action: 'copyUrl' | 'deleteFile' | 'redownload' | 'limits', download: DownloadInfo): Promise<void> {
    const host = this.#panelActionHost();
    await this.#run(async () => {
      if (action === 'copyUrl') await copyUrl(download);
      else if (action === 'deleteFile') await deleteFile(host, download);
      else if (action === 'redownload') await redownload(host, download);
      else await setLimits(host, download);
    });
  }

  async #urlHint(): Promise<string | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (editor !== undefined && !editor.selection.isEmpty) return findUrl(editor.document.getText(editor.selection));
    return undefined;
  }

  #schemes(): readonly string[] | undefined {
    const status = this.connection.status;
    return status.kind === 'running' ? status.info.schemes : undefined;
  }

  async #pick(action: DownloadAction): Promise<string | undefined> {
    const candidates = this.store.all().filter((d) => actionsFor(d).includes(action));
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(`Multiget: no download to ${ACTION_LABELS[action].toLowerCase()}.`);
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      candidates.map((d) => ({ label: displayName(d), description: d.state, detail: d.url, id: d.id })),
      { title: `Multiget: ${ACTION_LABELS[action]}`, placeHolder: 'Which download?' },
    );
    return picked?.id;
  }

  async #run(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.output.error(describeRequestError(err));
      // The same request again, once the user has seen why it failed (a service that took too long to start).
      void vscode.window.showErrorMessage(`Multiget: ${describeRequestError(err)}`, 'Retry').then(async (choice) => {
        if (choice === 'Retry') await this.#run(fn);
      });
    }
  }

  /** Tells the service how much of its log this window wants: the channel's level. */
  async #pushLogLevel(): Promise<void> {
    const level = serviceLogLevel(this.output.logLevel);
    // An older service without the request: its log stays in its own file.
    await this.connection.request(SetLogLevelRequest.type, { level }).catch((err: unknown) => this.output.debug(`multiget/setLogLevel: ${describeRequestError(err)}`));
  }

  async #onServiceReady(info: ServiceInfo): Promise<void> {
    this.output.info(`Service ${info.version} (protocol ${info.protocolVersion}, pid ${info.pid}) serves ${info.schemes.join(', ')}; state in ${info.stateDir}`);
    await this.#pushSettings();
    await this.#pushLogLevel();
    const { downloads } = await this.connection.request(ListRequest.type);
    this.store.reset(downloads);
    // Finish times for the rows; a service without a history answer still shows its list.
    const history = await this.connection.request(HistoryRequest.type).catch(() => undefined);
    if (history !== undefined) this.store.history(history.entries);
    this.#resumer.check(downloads);
  }

  /** A download held for credentials that SecretStorage does not have for its host. */
  #askForMissingCredentials(download: DownloadInfo): void {
    const host = credentialHost(download.url) ?? download.url;
    const action = 'Set Credentials…';
    void vscode.window
      .showWarningMessage(`Multiget: ${displayName(download)} waits for the credentials of ${host}, which are not stored in this VS Code.`, action)
      .then(async (choice) => {
        if (choice === action && (await this.setCredentials(host))) await this.act('resume', download.id);
      });
  }

  async #pushSettings(): Promise<void> {
    if (this.connection.status.kind !== 'running') return;
    const settings = this.settings();
    if (parseRate(settings.rateLimit) === undefined && this.#warnedRate !== settings.rateLimit) {
      this.#warnedRate = settings.rateLimit;
      void vscode.window.showWarningMessage(`Multiget: the rate limit "${settings.rateLimit}" is not a rate such as 500K or 2M; the previous limit stays.`);
    }
    const dir = this.downloadFolder();
    await fs.mkdir(dir, { recursive: true }).catch(() => undefined);
    try {
      await this.connection.request(SetSettingsRequest.type, toServiceSettings(settings, dir));
    } catch (err) {
      void vscode.window.showWarningMessage(`Multiget: the service refused the settings: ${describeRequestError(err)}`);
    }
  }

  #onConfiguration(e: vscode.ConfigurationChangeEvent): void {
    if (e.affectsConfiguration('http.proxy') || e.affectsConfiguration('http.proxyStrictSSL') || e.affectsConfiguration('http.noProxy') || e.affectsConfiguration('multiget.serverRuntime')) {
      // The service reads its proxy when it starts; its downloads pause and continue across the restart.
      void this.connection.restart();
      return;
    }
    if (e.affectsConfiguration('multiget')) void this.#pushSettings();
  }

  #onStatus(status: ServiceStatus): void {
    if (status.kind === 'failed') void vscode.window.showErrorMessage(status.message, 'Show Output').then((a) => a && this.output.show());
    this.#refreshViews();
  }

  #refreshViews(): void {
    this.statusBar.update(this.connection.status, this.store.all());
    DownloadsPanel.current?.update();
  }

  #notify({ download, previous }: StateTransition): void {
    // Only transitions seen live: a list that merely contains finished downloads stays quiet.
    if (previous === undefined || previous === download.state) return;
    const name = displayName(download);
    if (download.state === 'completed' || download.state === 'failed' || download.state === 'canceled') {
      // A file of a folder: the folder says it is done once, when its last file is (failures still speak).
      const ofFolder = this.#folders.has(download.id);
      this.#folderFileEnded(download.id, download.state);
      if (ofFolder && download.state !== 'failed') return;
    }
    if (download.state === 'completed') {
      // `multiget.notifyOnComplete: false` silences completions only; a failure still speaks up.
      if (vscode.workspace.getConfiguration('multiget').get<boolean>('notifyOnComplete') === false) return;
      const reveal = revealLabel();
      void vscode.window.showInformationMessage(`Downloaded ${name}`, 'Open', reveal).then(async (choice) => {
        if (choice === 'Open') await this.act('open', download.id);
        if (choice === reveal) await this.act('reveal', download.id);
      });
    } else if (isLinkExpired(download)) {
      const update = ACTION_LABELS.updateUrl;
      void vscode.window
        .showWarningMessage(`The link of ${name} stopped working (it may have expired). Give it a new link to continue: the bytes downloaded so far are kept.`, update, 'Show Downloads')
        .then(async (choice) => {
          if (choice === update) await this.act('updateUrl', download.id);
          if (choice === 'Show Downloads') this.showPanel(false);
        });
    } else if (download.state === 'failed') {
      const failure = download.error === null ? undefined : describeFailure(download.error, download.url);
      const detail = failure?.line ?? 'unknown error';
      if (failure !== undefined) this.output.error(`${name} failed: ${failure.detail} (${download.error!.code})`);
      const credentials = 'Set Credentials…';
      const trust = 'Trust This Host Key…';
      const remedies = failure?.remedies ?? ['retry'];
      const buttons =
        remedies.includes('setCredentials') ? [credentials, 'Retry']
        : remedies.includes('trustHostKey') ? [trust]
        : remedies.includes('retry') ? ['Retry', 'Show Downloads']
        : ['Show Downloads'];
      void vscode.window.showErrorMessage(`Download of ${name} failed: ${detail}`, ...buttons).then(async (choice) => {
        if (choice === 'Retry') await this.act('retry', download.id);
        if (choice === 'Show Downloads') this.showPanel(false);
        if (choice === credentials) await this.setCredentialsAndRetry(download.id);
        if (choice === trust && (await trustHostKey(download))) await this.act('retry', download.id);
      });
    }
  }

  /** A file of a folder ended: when it was the folder's last, says how the folder went, once. */
  #folderFileEnded(id: string, how: 'completed' | 'failed' | 'canceled'): void {
    const outcome = this.#folders.ended(id, how);
    if (outcome === undefined || outcome === 'pending') return;
    this.#folderDone(outcome);
  }

  #folderDone(outcome: FolderOutcome): void {
    const clean = outcome.failed === 0 && outcome.canceled === 0;
    if (clean && vscode.workspace.getConfiguration('multiget').get<boolean>('notifyOnComplete') === false) return;
    const message = folderOutcomeMessage(outcome, path.basename(outcome.folder));
    void (clean ? vscode.window.showInformationMessage : vscode.window.showWarningMessage)(message, 'Show Downloads').then((choice) => {
      if (choice === 'Show Downloads') this.showPanel(false);
    });
  }

  /**
   * "Update link…": asks for a new URL of the download (prefilled from the clipboard when it holds
   * one and the UI can read it without a browser prompt) and hands it to the service, which
   * resumes the bytes kept when the new link serves the same file. `{ url }` from a caller that
   * already has it (another extension, a test) skips the question.
   */
  async #updateUrl(download: DownloadInfo, options: unknown): Promise<void> {
    const schemes = this.#schemes();
    const given = typeof options === 'object' && options !== null ? (options as { url?: unknown }).url : undefined;
    let url: string | undefined;
    if (typeof given === 'string') {
      const problem = validateDownloadUrl(given, schemes);
      if (problem !== undefined) {
        void vscode.window.showErrorMessage(`Multiget: ${problem}`);
        return;
      }
      url = given.trim();
    } else {
      const suggested = await urlOnClipboard(schemes);
      url = await vscode.window.showInputBox({
        title: `Multiget: new link for ${displayName(download)}`,
        prompt: 'A new URL of the same file (a fresh signed link, a mirror). The bytes downloaded so far are kept when it serves the same file; otherwise the download starts over.',
        placeHolder: 'https://example.com/file.iso?signature=…',
        value: suggested !== undefined && suggested !== download.url ? suggested : '',
        ignoreFocusOut: true,
        validateInput: (value) => validateDownloadUrl(value, schemes),
      });
      url = url?.trim();
    }
    if (url === undefined || url === '') return;
    const chosen = url;
    await this.#run(async () => {
      const { download: after } = await this.connection.request(UpdateUrlRequest.type, { id: download.id, url: chosen });
      this.store.changed(after);
    });
  }

  /** Test hook: the download list now. */
  downloads(): DownloadInfo[] {
    return this.store.all();
  }
}
