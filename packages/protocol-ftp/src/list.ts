import type { RemoteEntry, RemoteEntryType } from '@multiget/core';
import { FileType, parseList, type FileInfo } from 'basic-ftp';
import type { FtpSession } from './FtpSession.js';

/**
 * Lists one folder on a logged-in session with basic-ftp's `list`: MLSD when the server offers it
 * (FEAT lists MLST), else `LIST -a`, else `LIST`. The data connection takes the session's way (its
 * proxy and TLS protection, as downloads do).
 *
 * Unix `LIST` lines are classified by their first character, as `ls -l` writes it: basic-ftp files
 * devices (`b`, `c`) as plain files, which would be downloaded; here they, FIFOs (`p`) and sockets
 * (`s`) are `other`, and MLSD types it does not know are `other` too.
 *
 * @param path - the folder as RETR paths are written (relative to the login folder; `''` for it)
 */
export async function listFolder(session: FtpSession, path: string): Promise<RemoteEntry[]> {
  const client = session.client;
  if (session.features.has('MLST') && !client.availableListCommands.includes('MLSD')) {
    client.availableListCommands = ['MLSD', ...client.availableListCommands];
  }
  const devices = new Set<string>();
  client.parseList = (text: string): FileInfo[] => {
    const out: FileInfo[] = [];
    for (const line of text.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      let parsed: FileInfo[];
      try {
        parsed = parseList(line);
      } catch {
        continue; // `total 12` and other lines that describe no entry
      }
      for (const info of parsed) {
        if (/^[bcps][rwxsStT-]{9}/.test(line)) devices.add(info.name);
        out.push(info);
      }
    }
    return out;
  };
  const infos = await client.list(path);
  return infos.map((info) => {
    const entry: RemoteEntry = { name: info.name, type: devices.has(info.name) ? 'other' : typeOf(info.type) };
    if (Number.isFinite(info.size) && info.size >= 0 && entry.type === 'file') entry.size = info.size;
    const mtime = info.modifiedAt?.getTime();
    if (mtime !== undefined && Number.isFinite(mtime)) entry.mtime = mtime;
    return entry;
  });
}

function typeOf(type: FileType): RemoteEntryType {
  switch (type) {
    case FileType.File:
      return 'file';
    case FileType.Directory:
      return 'directory';
    case FileType.SymbolicLink:
      return 'symlink';
    default:
      return 'other';
  }
}
