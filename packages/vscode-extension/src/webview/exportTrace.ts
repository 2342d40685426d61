/**
 * "Export Trace…" on a panel row: asks the service for the download's trace and saves it where the
 * user picks, through VS Code's save dialog (which works the same for a remote window: the file
 * goes through `workspace.fs`).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExportTraceRequest, type DownloadInfo } from '@multiget/server/protocol';
import { displayName } from '../model/viewModel';
import { describeRequestError, errorCodeOf } from '../service/requests';
import type { ServiceConnection } from '../service/ServiceConnection';

/** Saves the trace of `d`; resolves with where it went, or `undefined` when there was none or the user cancelled. */
export async function exportTrace(
  connection: Pick<ServiceConnection, 'request'>,
  d: DownloadInfo,
  downloadFolder: string,
): Promise<vscode.Uri | undefined> {
  const name = displayName(d);
  let trace: string;
  let fileName: string;
  try {
    ({ trace, fileName } = await connection.request(ExportTraceRequest.type, { id: d.id }));
  } catch (err) {
    const message =
      errorCodeOf(err) === 'MG_ERR_INVALID_STATE'
        ? `Multiget has no trace of ${name}: it has not run since the service started.`
        : `Multiget could not export the trace of ${name}: ${describeRequestError(err)}`;
    void vscode.window.showWarningMessage(message);
    return undefined;
  }
  const folder = d.file !== null ? path.dirname(d.file) : downloadFolder;
  const uri = await vscode.window.showSaveDialog({
    title: `Export the trace of ${name}`,
    saveLabel: 'Export Trace',
    defaultUri: vscode.Uri.file(path.join(folder, fileName)),
    filters: { 'Trace (Chrome trace-event JSON)': ['json'] },
  });
  if (uri === undefined) return undefined;
  await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(trace));
  void vscode.window
    .showInformationMessage(`Multiget: saved the trace of ${name} to ${uri.fsPath}. Open it in ui.perfetto.dev or chrome://tracing.`, 'Reveal')
    .then((choice) => {
      if (choice === 'Reveal') void vscode.commands.executeCommand('revealFileInOS', uri);
    });
  return uri;
}
