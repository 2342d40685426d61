import { OPTION_LIMITS, describeRange } from '@multiget/core';

/** One command-line flag: how node:util parseArgs reads it and how `--help` describes it. */
export interface FlagSpec {
  /** Long name without the dashes; also the key in the parsed values. */
  readonly name: string;
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  /** May be given several times (values are collected in order). */
  readonly multiple?: boolean;
  /** Placeholder for the value in `--help` (`FILE` and `DIR` also tell shell completion what to offer). */
  readonly value?: string;
  /** The only values accepted, offered by shell completion. */
  readonly choices?: readonly string[];
  readonly help: string;
  /** Heading it is listed under in `--help`. */
  readonly group: FlagGroup;
}

/** Default of `-j`: aria2's default of concurrent downloads (the manager's own default is lower). */
export const DEFAULT_JOBS = 5;

/** Headings of `--help`, in the order they are printed. */
export const FLAG_GROUPS = ['Output', 'Connections', 'Limits and retries', 'Integrity', 'Request', 'Network', 'Input', 'Display', 'Logging'] as const;

/** One of the {@link FLAG_GROUPS}. */
export type FlagGroup = (typeof FLAG_GROUPS)[number];

/**
 * Every flag `multiget` accepts. Parsing, `--help`, the shell completions and the man page all read
 * this table, so a flag cannot exist without being documented, nor be documented without being
 * parsed.
 */
export const FLAGS: readonly FlagSpec[] = [
  { name: 'output', short: 'o', type: 'string', value: 'FILE', group: 'Output', help: 'write to FILE (relative to --dir when given); one URL only' },
  { name: 'dir', short: 'd', type: 'string', value: 'DIR', group: 'Output', help: 'save into DIR, created if missing (default: the working directory)' },
  { name: 'trace', type: 'string', value: 'FILE', group: 'Output', help: 'write a trace of the downloads to FILE (Chrome trace-event JSON: open it in\nui.perfetto.dev): a track per connection, a span per range request, splits,\nretries, throughput; no secrets in it. Replaces FILE' },
  { name: 'overwrite', type: 'boolean', group: 'Output', help: 'replace an existing target (once the new file is complete); without it an\nexisting -o file is an error and a server-named one gets name.1.ext' },
  { name: 'recursive', short: 'r', type: 'boolean', group: 'Output', help: 'download whole folders (ftp://, ftps://, sftp://) into DIR/NAME (or -o DIR):\neach file a download of the queue; links, devices and unsafe names are\nskipped; a second run skips complete files and resumes partial ones' },
  { name: 'include', type: 'string', multiple: true, value: 'GLOB', group: 'Output', help: 'with -r: only files matching GLOB (repeatable; *, **, ?, [a-z], {a,b});\nwithout a / it matches the base name, with one the path in the folder' },
  { name: 'exclude', type: 'string', multiple: true, value: 'GLOB', group: 'Output', help: 'with -r: leave out files and folders matching GLOB (repeatable); wins over --include' },
  { name: 'depth', type: 'string', value: 'N', group: 'Output', help: 'with -r: enter at most N levels of subfolders (0: the folder\'s own files)' },
  { name: 'connections', short: 'c', type: 'string', value: 'N', group: 'Connections', help: `most connections per download, ${describeRange('connections')} (default ${OPTION_LIMITS.connections.default})` },
  { name: 'max-connection-per-server', short: 'x', type: 'string', value: 'N', group: 'Connections', help: 'same as --connections (aria2 spelling)' },
  { name: 'fixed-connections', type: 'boolean', group: 'Connections', help: 'open all --connections at once and keep them; without it they are a ceiling:\na download starts with a few and opens more while they add speed' },
  { name: 'max-connections-per-host', type: 'string', value: 'N', group: 'Connections', help: `connections to one host across all downloads, ${describeRange('maxConnectionsPerHost')} (default ${OPTION_LIMITS.maxConnectionsPerHost.default})` },
  { name: 'min-split-size', type: 'string', value: 'SIZE', group: 'Connections', help: 'smallest part a split leaves, except a slow tail (default 1M)' },
  { name: 'max-concurrent', short: 'j', type: 'string', value: 'N', group: 'Connections', help: `downloads at once when there are several, ${describeRange('maxConcurrent')} (default ${DEFAULT_JOBS})` },
  { name: 'limit-rate', type: 'string', value: 'RATE', group: 'Limits and retries', help: 'limit each download to RATE bytes per second (e.g. 500K, 2M)' },
  { name: 'max-overall-download-limit', type: 'string', value: 'RATE', group: 'Limits and retries', help: 'limit all downloads together to RATE bytes per second' },
  { name: 'retries', type: 'string', value: 'N', group: 'Limits and retries', help: `failures in a row without progress before giving up, ${describeRange('retries')}\n(default ${OPTION_LIMITS.retries.default}; 0 = no retry)` },
  { name: 'timeout', type: 'string', value: 'SECONDS', group: 'Limits and retries', help: 'give up on a connection after SECONDS without data (default 30)' },
  { name: 'connect-timeout', type: 'string', value: 'SECONDS', group: 'Limits and retries', help: 'time allowed to open a connection (default 15)' },
  { name: 'lowest-speed-limit', type: 'string', value: 'RATE', group: 'Limits and retries', help: 'restart the connections when the download gets less than RATE bytes per second\nfor --speed-time (a server that drips); counts as a failure (default 1K; 0 = off)' },
  { name: 'speed-time', type: 'string', value: 'SECONDS', group: 'Limits and retries', help: 'window of --lowest-speed-limit, and of restarting a connection ten times slower\nthan its siblings (default 30)' },
  { name: 'checksum', type: 'string', value: 'ALGO=HEX|auto', group: 'Integrity', help: 'verify the file: sha256=HEX (also sha512, sha1, md5; one URL only), or auto:\nverify each file against a checksum file beside its URL (NAME.sha256,\nNAME.sha256sum, NAME.sha512, NAME.sha512sum, SHA256SUMS, SHA512SUMS; first found)' },
  { name: 'no-cache', type: 'boolean', group: 'Integrity', help: 'always download: never copy a file downloaded before (same URL and unchanged\non the server, or same --checksum) from the content store, nor record this one' },
  { name: 'print-checksum', type: 'string', value: 'ALGO', choices: ['sha256', 'sha512', 'sha1', 'md5'], group: 'Integrity', help: 'print each finished file\'s digest (sha256, sha512, sha1 or md5) on stdout\nas sha256sum does ("HEX  FILE"); with --json, a "checksum" event' },
  { name: 'header', short: 'H', type: 'string', multiple: true, value: "'NAME: VALUE'", group: 'Request', help: 'send an extra request header (repeatable)' },
  { name: 'user', short: 'u', type: 'string', value: 'USER:PASSWORD', group: 'Request', help: 'credentials (HTTP Basic, FTP login); never printed' },
  { name: 'bearer', type: 'string', value: 'TOKEN', group: 'Request', help: 'send "Authorization: Bearer TOKEN"; never printed' },
  { name: 'user-agent', short: 'A', type: 'string', value: 'UA', group: 'Request', help: 'User-Agent to send (default multiget/VERSION)' },
  { name: 'max-redirs', type: 'string', value: 'N', group: 'Request', help: 'follow at most N redirects (0 = none)' },
  { name: 'location-trusted', type: 'boolean', group: 'Request', help: 'send -H headers and credentials to other hosts a redirect leads to (as curl);\nwithout it they stay with the host named. HTTPS to HTTP with them is refused' },
  { name: 'proxy', type: 'string', value: 'URL', group: 'Network', help: 'use this proxy for every URL (HTTP, FTP, SFTP): http://, https://,\nsocks5:// or socks5h://[USER:PASS@]HOST:PORT (default: HTTP_PROXY,\nHTTPS_PROXY, FTP_PROXY, ALL_PROXY; NO_PROXY always applies)' },
  { name: 'no-proxy', type: 'boolean', group: 'Network', help: 'use no proxy, ignoring the proxy environment variables' },
  { name: 'cacert', type: 'string', value: 'FILE', group: 'Network', help: 'trust the CA certificates (PEM) in FILE' },
  { name: 'insecure', short: 'k', type: 'boolean', group: 'Network', help: 'do not verify TLS certificates (dangerous)' },
  { name: 'ssh-key', type: 'string', value: 'FILE', group: 'Network', help: 'sftp://: private key to log in with (default: ssh-agent, then ~/.ssh/id_ed25519,\nid_ecdsa, id_rsa)' },
  { name: 'pass', type: 'string', value: 'PHRASE', group: 'Network', help: 'sftp://: passphrase of the key (visible to other users in the process list;\nprefer the MULTIGET_SSH_PASSPHRASE environment variable)' },
  { name: 'known-hosts', type: 'string', value: 'FILE', group: 'Network', help: 'sftp://: trust the host keys in FILE (default: ~/.ssh/known_hosts and\n/etc/ssh/ssh_known_hosts); unknown or changed keys are refused' },
  { name: 'ssh-fingerprint', type: 'string', value: 'SHA256:...', group: 'Network', help: 'sftp://: trust only the host key with this fingerprint (as ssh-keygen -l prints it)' },
  { name: 'ssl-reqd', type: 'boolean', group: 'Network', help: 'ftp:// URLs: require TLS (AUTH TLS) and never send anything in clear text;\nftps:// is always implicit TLS' },
  { name: 'input-file', short: 'i', type: 'string', value: 'FILE', group: 'Input', help: 'read URLs from FILE ("-" for stdin), one a line, aria2 style:\n' +
      '#-comments and blank lines skipped; indented option lines under a URL:\n' +
      'tab-separated URLs on one line are mirrors of one file;\n' +
      'out=NAME, dir=DIR, checksum=ALGO=HEX, header=NAME: VALUE,\n' +
      'max-connection-per-server=N (or split=N), max-download-limit=RATE,\n' +
      'priority=N (higher starts first; default 0)' },
  { name: 'same-file', type: 'boolean', group: 'Input', help: 'the URLs given are mirrors of one file: read from all of them at once\n(a .meta4 Metalink, or tab-separated URLs on one line of -i, do the same)' },
  { name: 'json', type: 'boolean', group: 'Display', help: 'print newline-delimited JSON events on stdout, nothing else' },
  { name: 'quiet', short: 'q', type: 'boolean', group: 'Display', help: 'print nothing but a final error line when something fails' },
  { name: 'no-segment-map', type: 'boolean', group: 'Display', help: 'hide the segment map under each progress bar (shown on a terminal of 60\ncolumns or more: done, in flight per connection, left)' },
  { name: 'no-color', type: 'boolean', group: 'Display', help: 'no colours (also when NO_COLOR is set)' },
  { name: 'completion', type: 'string', value: 'SHELL', choices: ['bash', 'zsh', 'fish'], group: 'Display', help: 'print the completion script for bash, zsh or fish and exit\n(bash: eval "$(multiget --completion bash)")' },
  { name: 'version', short: 'V', type: 'boolean', group: 'Display', help: 'print the version and exit' },
  { name: 'help', short: 'h', type: 'boolean', group: 'Display', help: 'print this help and exit' },
  { name: 'verbose', short: 'v', type: 'boolean', multiple: true, group: 'Logging', help: 'log what happens on stderr: -v info (start, end, retries and why),\n-vv debug (redirects, fallbacks, connections, TLS and host keys),\n-vvv trace (every range request); never on stdout, never a secret' },
  { name: 'log', type: 'string', value: 'FILE', group: 'Logging', help: 'append the log to FILE instead of stderr ("-" for stderr);\nlevel debug unless -v or --log-level say otherwise' },
  { name: 'log-level', type: 'string', value: 'LEVEL', choices: ['error', 'warn', 'info', 'debug', 'trace', 'off'], group: 'Logging', help: 'log at LEVEL: error, warn, info, debug, trace or off (overrides -v)' },
];
