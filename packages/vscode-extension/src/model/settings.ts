import * as path from 'node:path';
import type { SetSettingsParams } from '@multiget/server/protocol';
import { parseRate } from './format';

/** The `multiget.*` settings as the extension reads them (see package.json's contributes.configuration). */
export interface ExtensionSettings {
  /** Empty: the first workspace folder, else ~/Downloads. `~` and relative paths are resolved. */
  downloadFolder: string;
  connections: number;
  maxConcurrentDownloads: number;
  /** `2M`, `500K`, or empty for none. */
  rateLimit: string;
  retries: number;
  /** Ask for a folder for every download. */
  askForFolder: boolean;
  /** Ask for a checksum for every download. */
  askForChecksum: boolean;
  /** `auto`: verify each download against a checksum file beside its URL; `off`: do not look for one. */
  checksum: 'auto' | 'off';
}

/** Reads one setting; `vscode.WorkspaceConfiguration.get` fits. */
export type ConfigGetter = <T>(key: string) => T | undefined;

/** Defaults, the same as the service's (so an untouched setting changes nothing). */
export const SETTING_DEFAULTS: Readonly<ExtensionSettings> = {
  downloadFolder: '',
  connections: 8,
  maxConcurrentDownloads: 3,
  rateLimit: '',
  retries: 5,
  askForFolder: false,
  askForChecksum: false,
  checksum: 'off',
};

function intIn(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

/** The settings from `get`, with out-of-range or mistyped values replaced by the defaults. */
export function readSettings(get: ConfigGetter): ExtensionSettings {
  const str = (key: keyof ExtensionSettings): string => {
    const v = get<unknown>(key);
    return typeof v === 'string' ? v : (SETTING_DEFAULTS[key] as string);
  };
  const bool = (key: keyof ExtensionSettings): boolean => get<unknown>(key) === true;
  return {
    downloadFolder: str('downloadFolder'),
    connections: intIn(get<unknown>('connections'), 1, 256, SETTING_DEFAULTS.connections),
    maxConcurrentDownloads: intIn(get<unknown>('maxConcurrentDownloads'), 1, 1000, SETTING_DEFAULTS.maxConcurrentDownloads),
    rateLimit: str('rateLimit'),
    retries: intIn(get<unknown>('retries'), 0, 1000, SETTING_DEFAULTS.retries),
    askForFolder: bool('askForFolder'),
    askForChecksum: bool('askForChecksum'),
    checksum: get<unknown>('checksum') === 'auto' ? 'auto' : 'off',
  };
}

/** Where the machine's folders are, for {@link resolveDownloadFolder}. */
export interface FolderContext {
  /** The user's home directory. */
  home: string;
  /** Absolute path of the first workspace folder (a local or remote file system path), if any. */
  workspaceFolder: string | undefined;
}

/**
 * The absolute download folder for a `multiget.downloadFolder` value: empty means the first
 * workspace folder, else `~/Downloads`; `~` expands to the home directory; a relative path is taken
 * relative to the workspace folder (else the home directory), never to the process's cwd.
 */
export function resolveDownloadFolder(setting: string, ctx: FolderContext): string {
  const value = setting.trim();
  if (value === '') return ctx.workspaceFolder ?? path.join(ctx.home, 'Downloads');
  if (value === '~') return ctx.home;
  if (value.startsWith('~/') || value.startsWith('~\\')) return path.join(ctx.home, value.slice(2));
  if (path.isAbsolute(value)) return path.normalize(value);
  return path.resolve(ctx.workspaceFolder ?? ctx.home, value);
}

/**
 * The `multiget/setSettings` params for the settings: `dir` as resolved, and the rate limit parsed
 * (an unparsable rate is left out, so the service keeps its current one; the caller warns).
 */
export function toServiceSettings(s: ExtensionSettings, dir: string): SetSettingsParams {
  const params: SetSettingsParams = {
    dir,
    connections: s.connections,
    maxConcurrent: s.maxConcurrentDownloads,
    retries: s.retries,
  };
  const rate = parseRate(s.rateLimit);
  if (rate !== undefined) params.rateLimit = rate;
  return params;
}

/** VS Code's `http.*` settings that concern the service's connections. */
export interface HttpProxySettings {
  /** `http.proxy`: empty means none configured in VS Code (the environment's variables then apply). */
  proxy: string;
  /** `http.proxyStrictSSL`. */
  proxyStrictSSL: boolean;
  /** `http.noProxy`: hosts that bypass the proxy. */
  noProxy: readonly string[];
}

/** How the service process must be started to honour {@link HttpProxySettings}. */
export interface ProxyLaunch {
  /** Variables to set in the service's environment (on top of the extension host's). */
  env: Record<string, string>;
  /** Skip TLS certificate verification (`http.proxyStrictSSL: false` while a proxy is in use). */
  insecure: boolean;
}

const PROXY_VARIABLES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy'] as const;

/**
 * Maps VS Code's proxy settings onto the service: the service's HTTP plugin honours
 * HTTP_PROXY / HTTPS_PROXY / NO_PROXY, so `http.proxy` becomes those (both spellings, because the
 * lower-case ones win where both are set) and `http.noProxy` becomes NO_PROXY.
 *
 * `http.proxyStrictSSL: false` turns certificate checks off only while a proxy is in use (set here
 * or inherited from the environment): VS Code describes it as the proxy's setting, and switching
 * verification off for direct downloads because of it would surprise.
 */
export function proxyLaunch(http: HttpProxySettings, inherited: Readonly<Record<string, string | undefined>>): ProxyLaunch {
  const env: Record<string, string> = {};
  const proxy = http.proxy.trim();
  if (proxy !== '') {
    for (const name of PROXY_VARIABLES) env[name] = proxy;
  }
  const noProxy = http.noProxy.map((h) => h.trim()).filter((h) => h !== '' && !/[\s,]/.test(h));
  if (noProxy.length > 0) {
    env['NO_PROXY'] = noProxy.join(',');
    env['no_proxy'] = env['NO_PROXY'];
  }
  const proxyInUse = proxy !== '' || PROXY_VARIABLES.some((name) => (inherited[name] ?? '') !== '');
  return { env, insecure: proxyInUse && !http.proxyStrictSSL };
}

/**
 * The service process's environment: the extension host's, the proxy variables of
 * {@link proxyLaunch} over it, and one malloc arena for all its threads unless the environment
 * already chooses (glibc's MALLOC_ARENA_MAX; the `multiget` command's shebang sets the same, and
 * packages/cli/bin/multiget.js gives the figures: every thread's arena keeps its high-water mark).
 */
export function serviceEnvironment(
  inherited: Readonly<Record<string, string | undefined>>,
  launch: ProxyLaunch,
): Record<string, string | undefined> {
  return { MALLOC_ARENA_MAX: '1', ...inherited, ...launch.env };
}

/** Node version the service needs (undici 8 and the engine ask for it). */
export const REQUIRED_NODE: readonly [number, number] = [22, 19];

/** True when a Node version string (`v22.19.0` or `22.19.0`) is at least {@link REQUIRED_NODE}. */
export function nodeVersionSatisfies(version: string): boolean {
  const m = /^v?(\d+)\.(\d+)\.\d+/.exec(version.trim());
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major > REQUIRED_NODE[0] || (major === REQUIRED_NODE[0] && minor >= REQUIRED_NODE[1]);
}
