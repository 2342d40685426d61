import * as vscode from 'vscode';

/** How one input box behaves while it is up. */
export interface InputBoxFlow {
  /** Called as the user types (set the box's validation message and prompt). */
  onChange(value: string): void;
  /** A title-bar button was pressed. */
  onButton(button: vscode.QuickInputButton): void;
  /** Enter: the message to show instead of accepting, or undefined to accept the value. */
  refuse(value: string): string | undefined;
  /** Called once the box is shown (work that must not delay it, like reading the clipboard). */
  shown?(): void;
}

/**
 * Shows `input` until the user accepts a value that `flow.refuse` lets through (resolves it) or
 * hides the box (resolves `undefined`), then disposes the box and its listeners.
 */
export function runInputBox(input: vscode.InputBox, flow: InputBoxFlow): Promise<string | undefined> {
  return new Promise<string | undefined>((resolve) => {
    const disposables: vscode.Disposable[] = [];
    const finish = (value: string | undefined): void => {
      for (const d of disposables) d.dispose();
      input.dispose();
      resolve(value);
    };
    disposables.push(
      input.onDidChangeValue((value) => flow.onChange(value)),
      input.onDidTriggerButton((button) => flow.onButton(button)),
      input.onDidAccept(() => {
        const problem = flow.refuse(input.value);
        if (problem !== undefined) {
          input.validationMessage = problem;
          return;
        }
        finish(input.value);
      }),
      input.onDidHide(() => finish(undefined)),
    );
    input.show();
    flow.shown?.();
  });
}

/** Asks for the folder to save into, starting at `folder`; resolves its path, or undefined when cancelled. */
export async function askForSaveFolder(folder: string, title: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: vscode.Uri.file(folder),
    openLabel: 'Download here',
    title,
  });
  return picked?.[0]?.fsPath;
}
