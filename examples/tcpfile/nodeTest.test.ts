// The tcpfile example runs its conformance battery with node:test, as a plugin author without
// vitest would: this test starts `node --test` on it and checks that every scenario passed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CONFORMANCE_SCENARIOS } from '@multiget/core/testing';
import { expect, it } from 'vitest';

it('passes every scenario of the conformance battery under node:test', () => {
  const file = fileURLToPath(new URL('TcpFilePlugin.nodetest.ts', import.meta.url));
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', timeout: 120_000 });
  const count = (name: string): number => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(run.stdout)?.[1] ?? -1);
  const passed = run.stdout.split('\n').flatMap((line) => /^\s*ok \d+ - (.*)$/.exec(line)?.[1] ?? []);
  expect(run.stderr).toBe('');
  expect({ pass: count('pass'), fail: count('fail') }).toEqual({ pass: CONFORMANCE_SCENARIOS.length, fail: 0 });
  expect(passed).toEqual(expect.arrayContaining([...CONFORMANCE_SCENARIOS]));
  expect(run.status).toBe(0);
});
