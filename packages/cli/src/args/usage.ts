import { EXIT_CODE_TABLE } from '../exitCodes.js';
import { FLAGS, FLAG_GROUPS, type FlagSpec } from './flags.js';

const COLUMN = 34;

function signature(f: FlagSpec): string {
  const names = f.short ? `-${f.short}, --${f.name}` : `    --${f.name}`;
  return f.value ? `${names} ${f.value}` : names;
}

function describe(f: FlagSpec): string {
  const sig = `  ${signature(f)}`;
  const [first, ...rest] = f.help.split('\n');
  const head = sig.length < COLUMN ? sig.padEnd(COLUMN) + first : `${sig}\n${' '.repeat(COLUMN)}${first}`;
  return [head, ...rest.map((line) => ' '.repeat(COLUMN) + line)].join('\n');
}

/** The text of `multiget --help`: every flag by group, the exit codes and examples. */
export function usageText(): string {
  const lines: string[] = [
    'Usage: multiget [options] <url...>',
    '       multiget [options] -i urls.txt',
    '       multiget serve --stdio | --node-ipc [--state-dir DIR] [--dir DIR]   (JSON-RPC service)',
    '',
    'Downloads files over HTTP(S), FTP(S) and SFTP with several connections each. Interrupted downloads',
    'resume when the same command runs again (the partial data is kept in FILE.mgpart and',
    'FILE.mgstate beside the target). Sizes and rates take K, M or G (1K = 1024 bytes).',
  ];
  for (const group of FLAG_GROUPS) {
    lines.push('', `${group}:`);
    for (const f of FLAGS) if (f.group === group) lines.push(describe(f));
  }
  lines.push('', 'Exit codes:');
  for (const [code, text] of EXIT_CODE_TABLE) lines.push(`  ${String(code).padStart(3)}  ${text}`);
  lines.push(
    '  With several downloads: 0 if all succeeded, else the code of the first failed one.',
    '',
    'Examples:',
    '  multiget -c 16 https://example.com/big.iso',
    '  multiget -o image.iso --checksum sha256=9f86d08...0a08 https://example.com/big.iso',
    '  multiget -i urls.txt -j 3 -d downloads --limit-rate 2M',
    '',
  );
  return lines.join('\n');
}
