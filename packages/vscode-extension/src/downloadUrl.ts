import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { askForSaveFolder, runInputBox } from './ui/inputBox';
import { normalizeChecksum, validateChecksum } from './model/checksum';
import { suggestedFileName, validateFileName } from './model/fileName';
import { checkUrlBatch, describeUrlBatch, findUrl, splitUrls } from './model/url';

/** What the "Download URL" dialogue produced. */
export interface DownloadRequest {
  /** One or more URLs (a paste of several), each valid; pieces that were not are in `skipped`. */
  urls: string[];
  /** Pieces of the paste that are not downloadable URLs, with the reason (for the summary). */
  skipped: Array<{ url: string; reason: string }>;
  /** Absolute folder, when the user chose one; otherwise the configured folder applies. */
  dir?: string;
  /** `algo=hex`, when given (single URL only). */
  checksum?: string;
  /** The file name chosen with "Save as…" (single URL only): one safe path component. */
  fileName?: string;
  /** "Same file from several servers": the URLs are mirrors of one file, read at the same time. */
  sameFile?: boolean;
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

/**
 * The URL on the clipboard, if it holds one; `undefined` too when the clipboard cannot be read.
 *
 * Not read at all in a browser-hosted VS Code (code-server, vscode.dev, Codespaces): there the
 * read goes through the browser's permission and, refused or unfocused, VS Code shows an error
 * toast "Unable to read from the browser's clipboard…" of its own, which no catch here can stop.
 * A suggestion must never cost an error, so the web UI offers none.
 */
export async function urlOnClipboard(schemes: readonly string[] | undefined): Promise<string | undefined> {
  if (vscode.env.uiKind === vscode.UIKind.Web) return undefined;
  try {
    return findUrl(await vscode.env.clipboard.readText(), schemes);
  } catch {
    // A browser may refuse clipboard access; then there is simply no suggestion.
    return undefined;
  }
}

/**
 * Asks for one URL, or several pasted at once (one per line, or separated by spaces, tabs or
 * commas), with an input box that validates as the user types and four toggles in its title bar:
 * "Choose folder…", "Save as…" (a file name of the user's, one URL only), "Add checksum…" (one
 * URL only) and "Same file from several servers" (the URLs are mirrors of one download). Without them (and without the settings that ask), the downloads go into the
 * configured folder with no further question. Resolves `undefined` when the user cancels.
 */
export async function promptForDownload(o: DownloadUrlPromptOptions): Promise<DownloadRequest | undefined> {
  const initial = o.initial ?? urlInSelection(o.schemes) ?? '';
  const chooseFolder: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('folder'), tooltip: 'Choose folder…' };
  const saveAs: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('edit'), tooltip: 'Save as… (choose the file name)' };
  const addChecksum: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('verified'), tooltip: 'Add checksum…' };
  const mirrors: vscode.QuickInputButton = {
    iconPath: new vscode.ThemeIcon('server-environment'),
    tooltip: 'Same file from several servers (mirrors)',
  };
  let sameFile = false;
  let askFolder = o.askForFolder;
  let askName = false;
  let askChecksum = o.askForChecksum;

  const input = vscode.window.createInputBox();
  input.title = 'Multiget: Download URL';
  input.placeholder = 'https://example.com/file.iso (or several URLs)';
  input.value = initial;
  input.ignoreFocusOut = true;
  input.buttons = [chooseFolder, saveAs, addChecksum, mirrors];
  const describe = (): void => {
    const count = splitUrls(input.value).length;
    // Mirrors of one file are one download: name and checksum questions apply as to one URL.
    const several = count > 1 && !sameFile;
    const where = askFolder ? 'You will choose the folder next' : `Saves into ${o.folder}`;
    const steps: string[] = [];
    if (askName && !several) steps.push('asks for the file name');
    if (askChecksum && !several) steps.push('asks for a checksum');
    const then = steps.length > 0 ? `, then ${steps.join(' and ')}` : '';
    const what = several ? `${count} URLs. ` : sameFile && count > 1 ? `${count} URLs of one file (mirrors), read at once. ` : '';
    input.prompt = `${what}${where}${then}. Enter to download.`;
  };
  const validate = (value: string): void => {
    const problem = value.trim() === '' ? undefined : describeUrlBatch(value, o.schemes);
    input.validationMessage =
      problem === undefined ? undefined
      : problem.blocking ? problem.message
      : { message: problem.message, severity: vscode.InputBoxValidationSeverity.Warning };
    describe();
  };
  validate(initial);

  const text = await runInputBox(input, {
    onChange: validate,
    onButton(button) {
      if (button === chooseFolder) askFolder = !askFolder;
      if (button === saveAs) askName = !askName;
      if (button === addChecksum) askChecksum = !askChecksum;
      if (button === mirrors) sameFile = !sameFile;
      describe();
    },
    refuse(value) {
      const problem = describeUrlBatch(value, o.schemes);
      return problem?.blocking === true ? problem.message : undefined;
    },
    shown() {
      // The clipboard is read after the box is up: in a browser the read can wait on a permission
      // prompt, and the box must not wait with it. Its URL is used only if nothing was typed yet.
      if (initial !== '') return;
      void urlOnClipboard(o.schemes).then((fromClipboard) => {
        if (fromClipboard !== undefined && input.value === '') {
          input.value = fromClipboard;
          validate(fromClipboard);
        }
      });
    },
  });
  if (text === undefined) return undefined;
  const batch = checkUrlBatch(text, o.schemes);
  const asOne = sameFile && batch.urls.length > 1;
  const single = (batch.urls.length === 1 || asOne) && batch.rejected.length === 0;
  const request: DownloadRequest = { urls: batch.urls, skipped: batch.rejected.map((r) => ({ url: r.text, reason: r.problem })) };
  if (asOne) request.sameFile = true;
  if (askFolder) {
    const dir = await askForSaveFolder(o.folder, 'Multiget: folder for the download');
    if (dir === undefined) return undefined;
    request.dir = dir;
  }
  if (askName && single) {
    const folder = request.dir ?? o.folder;
    const name = await vscode.window.showInputBox({
      title: 'Multiget: save as',
      prompt: `File name in ${folder}`,
      value: suggestedFileName(batch.urls[0]!),
      ignoreFocusOut: true,
      validateInput: async (value) => validateFileName(value) ?? (await existsProblem(folder, value.trim())),
    });
    if (name === undefined) return undefined;
    request.fileName = name.trim();
  }
  if (askChecksum && single) {
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

/** "Save as…" never replaces a file: a name that exists in the folder is refused as typed. */
async function existsProblem(folder: string, name: string): Promise<string | undefined> {
  try {
    await fs.lstat(path.join(folder, name));
    return `${name} exists in ${folder}; choose another name.`;
  } catch {
    return undefined;
  }
}
