import { EXIT_CODE_TABLE } from '../exitCodes.js';
import { FLAGS, FLAG_GROUPS, type FlagSpec } from './flags.js';

/** Text for roff: backslashes and dashes escaped, and no line that roff would read as a request. */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

function flagHeading(f: FlagSpec): string {
  const spellings = (f.short ? [`\\fB\\-${f.short}\\fR`] : []).concat(`\\fB\\-\\-${roff(f.name)}\\fR`);
  return spellings.join(', ') + (f.value ? ` \\fI${roff(f.value)}\\fR` : '');
}

/**
 * The `multiget(1)` man page in roff (man macros), generated from the flags table that the parser,
 * `--help` and the shell completions read, and from the exit code table. The build writes it to
 * `dist/multiget.1`, which package.json's `man` field names, so `npm install -g` installs it.
 */
export function manPage(version: string): string {
  const out: string[] = [
    `.TH MULTIGET 1 "" "multiget ${roff(version)}" "User Commands"`,
    '.SH NAME',
    'multiget \\- segmented, resumable downloads over HTTP(S), FTP(S) and SFTP',
    '.SH SYNOPSIS',
    '.B multiget',
    '[\\fIoptions\\fR] \\fIurl\\fR...',
    '.br',
    '.B multiget',
    '[\\fIoptions\\fR] \\fB\\-i\\fR \\fIFILE\\fR',
    '.br',
    '.B multiget serve',
    '\\fB\\-\\-stdio\\fR | \\fB\\-\\-node\\-ipc\\fR [\\fB\\-\\-state\\-dir\\fR \\fIDIR\\fR]',
    '.SH DESCRIPTION',
    roff(
      'multiget downloads each URL over several connections at once. An interrupted download (Ctrl-C, ' +
        'SIGTERM, a crash, kill -9) resumes when the same command runs again: the partial data is kept in ' +
        'FILE.mgpart and its state in FILE.mgstate beside the target, and both are checked against the ' +
        'server before a byte is reused. A file is renamed into place only once complete and, when a ' +
        'digest is known, verified. Existing files are never overwritten unless asked.',
    ),
    '.PP',
    roff('Sizes and rates take K, M or G (1K = 1024 bytes); durations are seconds.'),
    '.SH OPTIONS',
  ];
  for (const group of FLAG_GROUPS) {
    out.push(`.SS ${roff(group)}`);
    for (const f of FLAGS) {
      if (f.group !== group) continue;
      out.push('.TP', flagHeading(f), roff(f.help.replace(/\n/g, ' ')));
    }
  }
  out.push('.SH EXIT STATUS');
  for (const [code, text] of EXIT_CODE_TABLE) out.push('.TP', `.B ${code}`, roff(text));
  out.push(
    '.PP',
    roff('With several downloads: 0 if all succeeded, else the code of the first failed one in input order. ' +
      'After SIGINT or SIGTERM the process ends by that signal, which a shell reports as 130 or 143.'),
    '.SH ENVIRONMENT',
    '.TP',
    '.BR HTTP_PROXY ", " HTTPS_PROXY ", " NO_PROXY',
    roff('proxies for http:// and https:// URLs, unless --proxy or --no-proxy is given'),
    '.TP',
    '.BR NO_COLOR ", " FORCE_COLOR ", " TERM',
    roff('colours off (NO_COLOR, TERM=dumb) or on (FORCE_COLOR); TERM=dumb also turns the live display into plain lines'),
    '.TP',
    '.B MULTIGET_SSH_PASSPHRASE',
    roff('passphrase of the SSH key for sftp:// URLs'),
    '.SH EXAMPLES',
    '.nf',
    roff('multiget -c 16 https://example.com/big.iso'),
    roff('multiget -o image.iso --checksum sha256=9f86d08...0a08 https://example.com/big.iso'),
    roff('multiget -i urls.txt -j 3 -d downloads --limit-rate 2M'),
    roff('eval "$(multiget --completion bash)"'),
    '.fi',
    '.SH SEE ALSO',
    '.BR curl (1),',
    '.BR wget (1),',
    '.BR aria2c (1)',
    '',
  );
  return out.join('\n');
}
