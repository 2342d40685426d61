import * as vscode from 'vscode';
import type { FolderRequest } from './addFolder';
import { urlInSelection } from './downloadUrl';
import { validateFolderUrl } from './model/folder';
import { askForSaveFolder, runInputBox } from './ui/inputBox';

/** What the "Download Folder…" box needs to know. */
export interface FolderPromptOptions {
  /** Absolute configured download folder, shown in the prompt and offered by "Choose folder…". */
  folder: string;
  /** Schemes the running service serves (validation narrows to these), or `undefined` if unknown. */
  schemes: readonly string[] | undefined;
  /** `multiget.askForFolder`. */
  askForFolder: boolean;
}

/**
 * Asks for a remote folder's URL (ftp, ftps, sftp) in an input box that validates as the user
 * types, with "Choose folder…" in its title bar as in "Download URL" (and the same
 * `multiget.askForFolder` setting); without it the folder is mirrored into the configured folder.
 * A folder URL in the editor's selection is the starting value. Resolves `undefined` when the user
 * cancels.
 */
export async function promptForFolder(o: FolderPromptOptions): Promise<FolderRequest | undefined> {
  const selected = urlInSelection(o.schemes);
  const initial = selected !== undefined && validateFolderUrl(selected, o.schemes) === undefined ? selected : '';
  const chooseFolder: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('folder'), tooltip: 'Choose folder…' };
  let askFolder = o.askForFolder;

  const input = vscode.window.createInputBox();
  input.title = 'Multiget: Download Folder';
  input.placeholder = 'ftp://example.com/pub/set/ or sftp://user@host/path/';
  input.value = initial;
  input.ignoreFocusOut = true;
  input.buttons = [chooseFolder];
  const describe = (): void => {
    const where = askFolder ? 'You will choose the folder to save it in next' : `Saves it as a folder in ${o.folder}`;
    input.prompt = `Every file of the remote folder and its subfolders. ${where}. Enter to download.`;
  };
  const validate = (value: string): void => {
    input.validationMessage = value.trim() === '' ? undefined : validateFolderUrl(value, o.schemes);
    describe();
  };
  validate(initial);

  const accepted = await runInputBox(input, {
    onChange: validate,
    onButton(button) {
      if (button === chooseFolder) askFolder = !askFolder;
      describe();
    },
    refuse: (value) => validateFolderUrl(value, o.schemes),
  });
  const url = accepted?.trim();
  if (url === undefined) return undefined;
  const request: FolderRequest = { url };
  if (askFolder) {
    const dir = await askForSaveFolder(o.folder, 'Multiget: folder to save the remote folder in');
    if (dir === undefined) return undefined;
    request.dir = dir;
  }
  return request;
}
