import * as vscode from 'vscode';
import { normalizeChecksum, validateChecksum } from './model/checksum';
import { findUrl, validateDownloadUrl } from './model/url';

/** What the "Download URL" dialogue produced. */
export interface DownloadRequest {
  url: string;
  /** Absolute folder, when the user chose one; otherwise the configured folder applies. */
  dir?: string;
  /** `algo=hex`, when given. */
  checksum?: string;
}

/** What the dialogue needs to know. */
export interface DownloadUrlPromptOptions {
  /** Absolute configured download folder, shown in the prompt and offered by "Choose folder…". */
  folder: string;
  /** Schemes the running service serves (validation narrows to these), or `undefined` if unknown. */
  schemes: readonly string[] | undefined;
  /** `multiget.askForFolder`. */
  askForFolder: boolean;
  /** `multiget.askForChecksum`. */
  askForChecksum: boolean;
  /** Value to start with (the URL under the cursor, say); else the selection or clipboard is used. */
  initial?: string;
}

/** The URL in the active editor's selection, if it holds one. */
export function urlInSelection(schemes: readonly string[] | undefined): string | undefined {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined || editor.selection.isEmpty) return undefined;
  return findUrl(editor.document.getText(editor.selection), schemes);
}

/** The URL on the clipboard, if it holds one; `undefined` too when the clipboard cannot be read. */
export async function urlOnClipboard(schemes: readonly string[] | undefined): Promise<string | undefined> {
  try {
    return findUrl(await vscode.env.clipboard.readText(), schemes);
  } catch {
    // A browser may refuse clipboard access; then there is simply no suggestion.
    return undefined;
  }
}

/**
 * Asks for a URL with an input box that validates as the user types, with two toggles in its title
 * bar: "Choose folder…" and "Add checksum…". Without them (and without the settings that ask), the
 * download goes into the configured folder with no further question. Resolves `undefined` when the
 * user cancels at any step.
 */
export async function promptForDownload(o: DownloadUrlPromptOptions): Promise<DownloadRequest | undefined> {
  const initial = o.initial ?? urlInSelection(o.schemes) ?? '';
  const chooseFolder: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('folder'), tooltip: 'Choose folder…' };
  const addChecksum: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('verified'), tooltip: 'Add checksum…' };
  let askFolder = o.askForFolder;
  let askChecksum = o.askForChecksum;

  const input = vscode.window.createInputBox();
  input.title = 'Multiget: Download URL';
  input.placeholder = 'https://example.com/file.iso';
  input.value = initial;
  input.ignoreFocusOut = true;
  input.buttons = [chooseFolder, addChecksum];
  const describe = (): void => {
    const where = askFolder ? 'You will choose the folder next' : `Saves into ${o.folder}`;
    input.prompt = `${where}${askChecksum ? ', then asks for a checksum' : ''}. Enter to download.`;
  };
  const validate = (value: string): void => {
    input.validationMessage = value.trim() === '' ? undefined : validateDownloadUrl(value, o.schemes);
  };
  describe();
  validate(initial);

  const url = await new Promise<string | undefined>((resolve) => {
    const disposables: vscode.Disposable[] = [];
    const finish = (value: string | undefined): void => {
      for (const d of disposables) d.dispose();
      input.dispose();
      resolve(value);
    };
    disposables.push(
      input.onDidChangeValue(validate),
      input.onDidTriggerButton((button) => {
        if (button === chooseFolder) askFolder = !askFolder;
        if (button === addChecksum) askChecksum = !askChecksum;
        describe();
      }),
      input.onDidAccept(() => {
        const problem = validateDownloadUrl(input.value, o.schemes);
        if (problem !== undefined) {
          input.validationMessage = problem;
          return;
        }
        finish(input.value.trim());
      }),
      input.onDidHide(() => finish(undefined)),
    );
    input.show();
    // The clipboard is read after the box is up: in a browser the read can wait on a permission
    // prompt, and the box must not wait with it. Its URL is used only if nothing was typed yet.
    if (initial === '') {
      void urlOnClipboard(o.schemes).then((fromClipboard) => {
        if (fromClipboard !== undefined && input.value === '') {
          input.value = fromClipboard;
          validate(fromClipboard);
        }
      });
    }
  });
  if (url === undefined) return undefined;

  const request: DownloadRequest = { url };
  if (askFolder) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      defaultUri: vscode.Uri.file(o.folder),
      openLabel: 'Download here',
      title: 'Multiget: folder for the download',
    });
    const folder = picked?.[0];
    if (folder === undefined) return undefined;
    request.dir = folder.fsPath;
  }
  if (askChecksum) {
    const text = await vscode.window.showInputBox({
      title: 'Multiget: checksum (optional)',
      prompt: 'sha256=HEX, sha512=HEX, sha1=HEX or md5=HEX (a bare hex digest works too). Leave empty to skip.',
      ignoreFocusOut: true,
      validateInput: validateChecksum,
    });
    if (text === undefined) return undefined;
    const checksum = normalizeChecksum(text);
    if (checksum !== undefined) request.checksum = checksum;
  }
  return request;
}
