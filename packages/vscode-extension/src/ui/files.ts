import * as path from 'node:path';
import * as vscode from 'vscode';

/**
 * True when files the extension host sees are on this computer, so the OS can open or reveal them.
 * In a remote window or in the browser (code-server, Codespaces) the files live elsewhere.
 */
export function filesAreLocal(): boolean {
  return vscode.env.remoteName === undefined && vscode.env.uiKind === vscode.UIKind.Desktop;
}

/** The caption of the "reveal" action where it runs (the words VS Code itself uses). */
export function revealLabel(): string {
  if (!filesAreLocal()) return 'Reveal in Explorer';
  if (process.platform === 'darwin') return 'Reveal in Finder';
  return 'Reveal in File Explorer';
}

function inWorkspace(file: string): boolean {
  return (vscode.workspace.workspaceFolders ?? []).some((f) => {
    if (f.uri.scheme !== 'file') return false;
    const rel = path.relative(f.uri.fsPath, file);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  });
}

/** Opens a downloaded file: with the OS's default application when local, else in an editor. */
export async function openFile(file: string): Promise<void> {
  const uri = vscode.Uri.file(file);
  if (filesAreLocal()) {
    if (await vscode.env.openExternal(uri)) return;
  }
  await vscode.commands.executeCommand('vscode.open', uri);
}

/**
 * Shows a downloaded file: in the OS's file manager when local, in VS Code's Explorer when it lies
 * in the workspace, else by telling its path (with a button to copy it).
 */
export async function revealFile(file: string): Promise<void> {
  const uri = vscode.Uri.file(file);
  if (filesAreLocal()) {
    await vscode.commands.executeCommand('revealFileInOS', uri);
    return;
  }
  if (inWorkspace(file)) {
    await vscode.commands.executeCommand('revealInExplorer', uri);
    return;
  }
  const copy = 'Copy Path';
  if ((await vscode.window.showInformationMessage(`Downloaded to ${file}`, copy)) === copy) await vscode.env.clipboard.writeText(file);
}
