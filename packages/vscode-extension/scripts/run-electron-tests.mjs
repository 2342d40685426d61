#!/usr/bin/env node
// Runs the in-extension-host suite (dist/test/suite/index.js, its `run()`) in a desktop VS Code
// through @vscode/test-electron, the usual way for extensions. @vscode/test-electron downloads VS
// Code, so it is not a dependency of this repository (no downloads here); where it can, install it
// next to the repo (`npm i --no-save @vscode/test-electron`) and run `npm run test:host:electron`.
// Here, scripts/run-code-server-tests.mjs runs the same suite in code-server instead.
//
//   node scripts/run-electron-tests.mjs [--version 1.91.0|stable]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const versionArg = process.argv.indexOf('--version');
const version = versionArg > 0 ? process.argv[versionArg + 1] : 'stable';

let testElectron;
try {
  testElectron = await import('@vscode/test-electron');
} catch {
  process.stderr.write(
    'run-electron-tests: @vscode/test-electron is not installed. It downloads a VS Code build, which this\n' +
      'machine cannot; where it can: npm i --no-save @vscode/test-electron && npm run test:host:electron.\n' +
      'Here the same suite runs in code-server: npm run test:host:code-server.\n',
  );
  process.exit(2);
}

// The suite and the extension are bundles; build them first.
execFileSync(process.execPath, [path.join(packageDir, 'esbuild.mjs')], { stdio: 'inherit', cwd: packageDir });
const suite = path.join(packageDir, 'dist', 'test', 'suite', 'index.js');
if (!existsSync(suite)) throw new Error(`missing ${suite}`);

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'multiget-electron-'));
const workspace = path.join(root, 'workspace');
await fs.mkdir(workspace);
try {
  await testElectron.runTests({
    version,
    extensionDevelopmentPath: packageDir,
    extensionTestsPath: suite,
    launchArgs: [workspace, '--disable-extensions', '--user-data-dir', path.join(root, 'user-data'), '--disable-workspace-trust'],
  });
  process.stdout.write('in-host suite in VS Code (electron): passed\n');
} catch (err) {
  process.stderr.write(`run-electron-tests: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await fs.rm(root, { recursive: true, force: true });
}
