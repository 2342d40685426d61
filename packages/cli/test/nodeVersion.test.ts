import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nodeSupported } from '@multiget/core';

/** Makes the child believe it runs on another Node.js version, before any module loads. */
function fakeNode(version: string): string {
  return `data:text/javascript,Object.defineProperty(process.versions,'node',{value:'${version}'})`;
}

describe('importing a package on an unsupported Node.js', () => {
  it('fails with one sentence naming the Node.js needed, from every package, before undici or ssh2 load', () => {
    for (const pkg of ['@multiget/core', '@multiget/core/testing', '@multiget/protocol-http', '@multiget/protocol-ftp', '@multiget/protocol-sftp', '@multiget/server', 'multiget']) {
      const r = spawnSync(process.execPath, ['--import', fakeNode('20.19.1'), '--input-type=module', '-e', `await import('${pkg}')`], { encoding: 'utf8' });
      expect(r.status, pkg).toBe(1);
      expect(r.stderr, pkg).toContain('Error: Multiget needs Node >= 22.19 (this is 20.19.1)');
    }
  });

  it('loads on the supported versions', () => {
    const r = spawnSync(process.execPath, ['--import', fakeNode('22.19.0'), '--input-type=module', '-e', "await import('@multiget/protocol-http')"], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect([nodeSupported('v22.19.0'), nodeSupported('24.0.0'), nodeSupported('22.18.9'), nodeSupported('20.20.2')]).toEqual([true, true, false, false]);
  });
});
