import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { parseWebviewMessage, type ExtensionMessage, type WebviewMessage } from './messages';
import { renderPanelHtml } from './html';

/** The panel's view type; also the serializer's key and the `onWebviewPanel:` activation event. */
export const PANEL_VIEW_TYPE = 'multiget.downloads';

/** Where the panel gets its state from and where its validated messages go. */
export interface PanelHost {
  /** The message to show now. */
  currentState(): ExtensionMessage;
  /** A message that passed validation. */
  handle(message: WebviewMessage): void | Promise<void>;
  /** A message that did not (logged, never acted on). */
  rejected(raw: unknown): void;
}

/**
 * The Downloads panel: one webview panel at most, created by "Show Downloads" and restored after a
 * window reload by the serializer (the webview-sample's createOrShow / revive / dispose shape).
 */
export class DownloadsPanel {
  static #current: DownloadsPanel | undefined;
  readonly #disposables: vscode.Disposable[] = [];

  /** The open panel, if any. */
  static get current(): DownloadsPanel | undefined {
    return DownloadsPanel.#current;
  }

  /**
   * Shows the panel, creating it the first time. With `preserveFocus` (a download was just added)
   * the keyboard stays where it was and an editor in use stays visible: the panel opens beside it,
   * never on top of it, and a panel already in view is left alone.
   */
  static createOrShow(extensionUri: vscode.Uri, host: PanelHost, preserveFocus = false): DownloadsPanel {
    const existing = DownloadsPanel.#current;
    const editorColumn = vscode.window.activeTextEditor?.viewColumn;
    if (existing !== undefined) {
      if (!preserveFocus) existing.panel.reveal(undefined, false);
      else if (!existing.panel.visible) {
        existing.panel.reveal(existing.panel.viewColumn === editorColumn ? vscode.ViewColumn.Beside : undefined, true);
      }
      existing.update();
      return existing;
    }
    const viewColumn = preserveFocus && editorColumn !== undefined ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'Downloads', { viewColumn, preserveFocus }, DownloadsPanel.options(extensionUri));
    return new DownloadsPanel(panel, extensionUri, host);
  }

  /** Takes over a panel VS Code restored after a reload. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, host: PanelHost): DownloadsPanel {
    // A second restored panel (two were open before an older version) would break "one instance".
    DownloadsPanel.#current?.panel.dispose();
    return new DownloadsPanel(panel, extensionUri, host);
  }

  /** Webview options: scripts on, and only the extension's media folder readable. */
  static options(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableForms: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly host: PanelHost,
  ) {
    DownloadsPanel.#current = this;
    const webview = panel.webview;
    // Restored panels keep the options they were created with, so set them again.
    webview.options = DownloadsPanel.options(extensionUri);
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    // The tab's icon, drawn for each theme kind (high-contrast themes take the matching one).
    panel.iconPath = { light: vscode.Uri.joinPath(media, 'downloads-light.svg'), dark: vscode.Uri.joinPath(media, 'downloads-dark.svg') };
    webview.html = renderPanelHtml({
      nonce: randomBytes(18).toString('base64'),
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'panel.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'panel.css')).toString(),
    });
    this.#disposables.push(
      webview.onDidReceiveMessage((raw: unknown) => {
        const message = parseWebviewMessage(raw);
        if (message === undefined) {
          this.host.rejected(raw);
          return;
        }
        if (message.type === 'ready') {
          this.update();
          return;
        }
        void this.host.handle(message);
      }),
      panel.onDidDispose(() => this.#disposed()),
      // A hidden webview is discarded and its script reloads when shown, sending `ready` again.
    );
  }

  /** Sends the current state to the webview (no-op while it is hidden: it asks again when shown). */
  update(): void {
    if (!this.panel.visible) return;
    void this.panel.webview.postMessage(this.host.currentState());
  }

  /** Closes the panel. */
  dispose(): void {
    this.panel.dispose();
  }

  #disposed(): void {
    if (DownloadsPanel.#current === this) DownloadsPanel.#current = undefined;
    for (const d of this.#disposables.splice(0)) d.dispose();
  }
}
