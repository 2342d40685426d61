import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeVersionSatisfies, proxyLaunch, readSettings, resolveDownloadFolder, serviceEnvironment, SETTING_DEFAULTS, toServiceSettings } from '../src/model/settings';
import { parseStoredCredentials } from '../src/model/storedCredentials';

const home = path.resolve('/home/ada');
const ws = path.resolve('/srv/project');

describe('resolveDownloadFolder', () => {
  it('defaults to the first workspace folder, else ~/Downloads', () => {
    expect(resolveDownloadFolder('', { home, workspaceFolder: ws })).toBe(ws);
    expect(resolveDownloadFolder('  ', { home, workspaceFolder: undefined })).toBe(path.join(home, 'Downloads'));
  });
  it('expands ~ and resolves relative paths against the workspace (never the cwd)', () => {
    expect(resolveDownloadFolder('~', { home, workspaceFolder: ws })).toBe(home);
    expect(resolveDownloadFolder('~/isos', { home, workspaceFolder: ws })).toBe(path.join(home, 'isos'));
    expect(resolveDownloadFolder('out/dl', { home, workspaceFolder: ws })).toBe(path.join(ws, 'out', 'dl'));
    expect(resolveDownloadFolder('dl', { home, workspaceFolder: undefined })).toBe(path.join(home, 'dl'));
    expect(resolveDownloadFolder(path.resolve('/data/x/../y'), { home, workspaceFolder: ws })).toBe(path.resolve('/data/y'));
  });
});

describe('readSettings', () => {
  it('falls back to the defaults for missing, mistyped or out-of-range values', () => {
    const values: Record<string, unknown> = { connections: 300, maxConcurrentDownloads: 2.5, retries: '3', rateLimit: 7, askForFolder: 'yes', checksum: 'sha256' };
    expect(readSettings(<T>(k: string) => values[k] as T)).toEqual(SETTING_DEFAULTS);
  });
  it('takes valid values', () => {
    const values: Record<string, unknown> = { downloadFolder: '~/x', connections: 16, maxConcurrentDownloads: 1, retries: 0, rateLimit: '2M', askForFolder: true, askForChecksum: true, checksum: 'auto' };
    expect(readSettings(<T>(k: string) => values[k] as T)).toEqual({ ...values });
  });
});

describe('toServiceSettings', () => {
  it('maps the extension settings onto multiget/setSettings', () => {
    expect(toServiceSettings({ ...SETTING_DEFAULTS, connections: 4, rateLimit: '1M' }, ws)).toEqual({ dir: ws, connections: 4, maxConcurrent: 3, retries: 5, rateLimit: 1024 * 1024 });
  });
  it('sends null to lift the rate limit and leaves a bad rate out', () => {
    expect(toServiceSettings(SETTING_DEFAULTS, ws).rateLimit).toBeNull();
    expect(toServiceSettings({ ...SETTING_DEFAULTS, rateLimit: 'fast' }, ws)).not.toHaveProperty('rateLimit');
  });
});

describe('serviceEnvironment', () => {
  it('gives the service one malloc arena, keeps the environment it inherits, and the proxy variables win', () => {
    const launch = proxyLaunch({ proxy: 'http://proxy:3128', proxyStrictSSL: true, noProxy: [] }, {});
    const env = serviceEnvironment({ PATH: '/bin', HTTP_PROXY: 'http://old:1' }, launch);
    expect(env).toMatchObject({ MALLOC_ARENA_MAX: '1', PATH: '/bin', HTTP_PROXY: 'http://proxy:3128' });
  });

  it("leaves a MALLOC_ARENA_MAX the user's environment sets", () => {
    const env = serviceEnvironment({ MALLOC_ARENA_MAX: '4' }, { env: {}, insecure: false });
    expect(env['MALLOC_ARENA_MAX']).toBe('4');
  });
});

describe('proxyLaunch', () => {
  it('passes http.proxy to the service as both spellings of HTTP(S)_PROXY and http.noProxy as NO_PROXY', () => {
    const launch = proxyLaunch({ proxy: 'http://proxy:3128', proxyStrictSSL: true, noProxy: ['localhost', ' .corp ', 'bad host'] }, {});
    expect(launch.env).toEqual({
      HTTP_PROXY: 'http://proxy:3128',
      http_proxy: 'http://proxy:3128',
      HTTPS_PROXY: 'http://proxy:3128',
      https_proxy: 'http://proxy:3128',
      NO_PROXY: 'localhost,.corp',
      no_proxy: 'localhost,.corp',
    });
    expect(launch.insecure).toBe(false);
  });
  it('leaves the environment alone without a proxy setting', () => {
    expect(proxyLaunch({ proxy: '', proxyStrictSSL: true, noProxy: [] }, { HTTPS_PROXY: 'http://env:1' })).toEqual({ env: {}, insecure: false });
  });
  it('turns certificate checks off for proxyStrictSSL false only while a proxy is in use', () => {
    expect(proxyLaunch({ proxy: 'http://p:1', proxyStrictSSL: false, noProxy: [] }, {}).insecure).toBe(true);
    expect(proxyLaunch({ proxy: '', proxyStrictSSL: false, noProxy: [] }, { https_proxy: 'http://env:1' }).insecure).toBe(true);
    expect(proxyLaunch({ proxy: '', proxyStrictSSL: false, noProxy: [] }, {}).insecure).toBe(false);
  });
});

describe('nodeVersionSatisfies', () => {
  it('needs Node 22.19 or later', () => {
    expect(nodeVersionSatisfies('v22.19.0')).toBe(true);
    expect(nodeVersionSatisfies('24.1.0')).toBe(true);
    expect(nodeVersionSatisfies('v22.18.9')).toBe(false);
    expect(nodeVersionSatisfies('20.9.0')).toBe(false);
    expect(nodeVersionSatisfies('garbage')).toBe(false);
  });
});

describe('parseStoredCredentials', () => {
  it('reads a password or a token and nothing malformed', () => {
    expect(parseStoredCredentials('{"username":"a","password":"b"}')).toEqual({ username: 'a', password: 'b' });
    expect(parseStoredCredentials('{"bearer":"t"}')).toEqual({ bearer: 't' });
    for (const bad of [undefined, '', 'x', 'null', '{"bearer":""}', '{"username":"a"}', '[1]']) expect(parseStoredCredentials(bad)).toBeUndefined();
  });
});
