import * as vscode from 'vscode';
import type { DownloadInfo } from '@multiget/server/protocol';
import { statusBarView, totals } from '../model/viewModel';
import type { ServiceStatus } from '../service/ServiceConnection';

/** The status bar item: active downloads and their total speed; a click shows the panel. */
export class StatusBar implements vscode.Disposable {
  readonly #item: vscode.StatusBarItem;

  constructor(command: string) {
    this.#item = vscode.window.createStatusBarItem('multiget.status', vscode.StatusBarAlignment.Left, 50);
    this.#item.name = 'Multiget downloads';
    this.#item.command = command;
    this.#item.show();
  }

  /** The text shown now (for tests). */
  get text(): string {
    return this.#item.text;
  }

  /** Shows the list's figures, or the service's trouble when it is not running. */
  update(status: ServiceStatus, downloads: readonly DownloadInfo[]): void {
    this.#item.backgroundColor = undefined;
    switch (status.kind) {
      case 'running': {
        const view = statusBarView(totals(downloads));
        this.#item.text = view.text;
        this.#item.tooltip = view.tooltip;
        return;
      }
      case 'starting':
        this.#item.text = '$(loading~spin) Multiget';
        this.#item.tooltip = 'Multiget: connecting to the download service…';
        return;
      case 'failed':
        this.#item.text = '$(error) Multiget';
        this.#item.tooltip = status.message;
        this.#item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
        return;
      case 'stopped':
        this.#item.text = '$(cloud-download) Multiget';
        this.#item.tooltip = 'Multiget: the download service is stopped.';
    }
  }

  dispose(): void {
    this.#item.dispose();
  }
}
