import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import type { ServiceInfo } from '@multiget/server/protocol';
import type { MultigetTestApi } from './api';
import { Controller } from './Controller';
import { DownloadsPanel } from './webview/DownloadsPanel';

let controller: Controller | undefined;

/** Set to the path of a bundled in-host test suite to enable "Multiget: Run Self Tests" (code-server CI). */
const SELF_TEST_SUITE_ENV = 'MULTIGET_SELF_TEST_SUITE';
/** Where the self tests write their JSON results. */
const SELF_TEST_RESULTS_ENV = 'MULTIGET_SELF_TEST_RESULTS';

/** Starts the service and registers the commands, the panel's serializer and the status bar. */
export function activate(context: vscode.ExtensionContext): MultigetTestApi | undefined {
  const c = new Controller(context);
  controller = c;
  c.activate();
  const selfTests = process.env[SELF_TEST_SUITE_ENV];
  if (selfTests !== undefined && selfTests !== '') registerSelfTests(context, selfTests);
  const testMode = context.extensionMode === vscode.ExtensionMode.Test || (selfTests !== undefined && selfTests !== '');
  return testMode ? testApi(c) : undefined;
}

/** Stops the service in order (partial data and the queue are kept for the next start). */
export async function deactivate(): Promise<void> {
  const c = controller;
  controller = undefined;
  await c?.deactivate();
}

function testApi(c: Controller): MultigetTestApi {
  return {
    status: () => c.connection.status,
    whenRunning: (timeoutMs) =>
      new Promise<ServiceInfo>((resolve, reject) => {
        const ready = (): boolean => {
          const s = c.connection.status;
          // Running and listed: the store was reset after the status flipped, so wait a tick more.
          if (s.kind === 'running') {
            setTimeout(() => resolve(s.info), 200);
            return true;
          }
          return false;
        };
        if (ready()) return;
        const timer = setTimeout(() => {
          sub.dispose();
          reject(new Error(`The service did not start within ${timeoutMs} ms (status: ${c.connection.status.kind})`));
        }, timeoutMs);
        const sub = c.connection.onDidChangeStatus(() => {
          if (ready()) {
            clearTimeout(timer);
            sub.dispose();
          }
        });
      }),
    downloads: () => c.downloads(),
    statusBarText: () => c.statusBar.text,
    panel: () => ({ open: DownloadsPanel.current !== undefined, visible: DownloadsPanel.current?.panel.visible ?? false }),
    request: c.connection.request.bind(c.connection),
    panelMessage: (raw) => c.receivePanelMessage(raw),
    downloadFolder: () => c.downloadFolder(),
  };
}

/**
 * "Multiget: Run Self Tests" — only when the host was started with MULTIGET_SELF_TEST_SUITE, which
 * is how the in-host suite runs inside code-server (where no extension-test mode can be reached
 * from outside). It loads that suite, runs it, and writes the results as JSON for the runner script.
 */
function registerSelfTests(context: vscode.ExtensionContext, suitePath: string): void {
  void vscode.commands.executeCommand('setContext', 'multiget.selfTests', true);
  context.subscriptions.push(
    vscode.commands.registerCommand('multiget.runSelfTests', async () => {
      const resultsPath = process.env[SELF_TEST_RESULTS_ENV];
      let report: unknown;
      try {
        // A path from the environment of a test run, never from user input.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const suite = require(suitePath) as { runSuite?: () => Promise<unknown>; run: () => Promise<void> };
        report = suite.runSuite !== undefined ? await suite.runSuite() : (await suite.run(), { passed: true });
      } catch (err) {
        report = { error: err instanceof Error ? (err.stack ?? err.message) : String(err) };
      }
      if (resultsPath !== undefined && resultsPath !== '') await fs.writeFile(resultsPath, JSON.stringify(report, null, 2));
      return report;
    }),
  );
}
