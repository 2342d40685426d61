// One download through the engine with the FTP plugin, in its own process (as the CLI would run it):
//   node scripts/fetch.mjs URL DIR CONNECTIONS [CA_FILE]
// Prints the result as JSON. Used by measure.mjs; needs `npm run build` first.
import { readFileSync } from 'node:fs';
import { Multiget } from '@multiget/core';
import { FtpPlugin } from '../dist/index.js';

const [url, dir, connections = '8', caFile] = process.argv.slice(2);
if (url === undefined || dir === undefined) {
  console.error('usage: node scripts/fetch.mjs URL DIR CONNECTIONS [CA_FILE]');
  process.exit(2);
}
const ftp = new FtpPlugin(caFile === undefined ? {} : { tls: 'explicit', ca: readFileSync(caFile, 'utf8') });
const mg = new Multiget({ plugins: [ftp], connections: Number(connections) });
try {
  const result = await mg.download(url, { dir, connections: Number(connections), existing: 'overwrite' }).done;
  console.log(JSON.stringify(result));
} catch (err) {
  console.error(err instanceof Error ? `${err.code ?? ''} ${err.message}` : String(err));
  process.exitCode = 1;
} finally {
  await mg.close();
}
