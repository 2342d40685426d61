// The package as built (scripts/bundle-package.mjs): one file per entry point of package.json's
// "exports", with the code several entries share in chunks of their own, so that every entry sees the
// same classes. Checked on core, whose entries share the engine, in a fresh process that imports the
// built files by the package's own name, as a plugin's test suite does.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { downloadV8Flags } from '../src/v8Tuning.js';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

describe('the built package', () => {
  it('gives @multiget/core and @multiget/core/testing one copy of the engine', () => {
    const script = `
      const core = await import('@multiget/core');
      const testing = await import('@multiget/core/testing');
      const job = testing.createJob('http://127.0.0.1/x.bin');
      const err = await testing.rejectionOf(Promise.reject(new core.NetworkError('MG_ERR_CONNECT', 'refused')));
      console.log(JSON.stringify({ job: job instanceof core.Job, error: err instanceof core.NetworkError }));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dist, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ job: true, error: true });
  });

  it('holds the entry points and their shared chunks, and no per-module files of an earlier build', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { default?: string } | string> };
    const entries = Object.values(pkg.exports)
      .map((e) => (typeof e === 'string' ? e : e.default))
      .filter((p): p is string => p !== undefined && p.endsWith('.js'))
      .map((p) => p.replace(/^\.\/dist\//, ''));
    const files = (readdirSync(dist, { recursive: true }) as string[]).filter((f) => f.endsWith('.js')).sort();
    expect(files.filter((f) => !/^chunk-[A-Z0-9]+\.js$/.test(f))).toEqual([...entries].sort());
    // Dependencies stay imports, resolved by npm: the engine does not carry its own tapable.
    const bundled = files.map((f) => readFileSync(new URL(f, `file://${dist}`), 'utf8')).join('\n');
    expect(bundled).toMatch(/from "tapable"/);
    expect(bundled).not.toMatch(/class SyncHook\b/);
  });

  it('serves the V8 flags of a process that runs downloads from a module without imports, and V8 takes each', () => {
    // Executables load it before anything else (packages/cli/bin/multiget.js): an import would load more.
    const built = readFileSync(new URL('v8Tuning.js', `file://${dist}`), 'utf8');
    expect(built).not.toMatch(/^\s*import\b|\bimport\(|\brequire\(/m);
    // A flag V8 does not know is reported on stderr, and the process goes on without it.
    const script = `
      const { downloadV8Flags } = await import('@multiget/core/v8-tuning');
      const v8 = await import('node:v8');
      const flags = downloadV8Flags();
      for (const flag of flags) v8.setFlagsFromString(flag);
      console.log(JSON.stringify(flags));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dist, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toContain('--wasm-tier-up-filter=2147483647');
    // The flags only Node 24's V8 was measured with go to no other: Node 22's V8 does not know the
    // first, and leaves Maglev off, so without TurboFan only its baseline compiler would be left.
    expect(downloadV8Flags(24)).toContain('--external-memory-accounted-in-global-limit');
    expect(downloadV8Flags(24)).toContain('--no-turbofan');
    expect(downloadV8Flags(22)).not.toContain('--external-memory-accounted-in-global-limit');
    expect(downloadV8Flags(22)).not.toContain('--no-turbofan');
    expect(downloadV8Flags(22)).toEqual(downloadV8Flags(24).slice(2));
  });
});

