#!/usr/bin/env node
// CI's packaging check (.ci/run; `npm run pack-check`): what users would get from npm.
// 1. `npm pack --dry-run` of every published workspace: the file list must hold package.json,
//    README.md, LICENSE and the built entry point, and nothing from tests, sources or source maps
//    (a map pointing at sources that are not shipped is dangling).
// 2. Packs every published workspace, installs the tarballs into a fresh folder outside the
//    repository (in os.tmpdir()), and from there runs the README's library example against a local
//    test server and `multiget --version`, as a user who ran `npm install` would.
// Prints one line per check and exits 1 when any failed.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoReadmeExamples } from './readme-examples.mjs';

const root = new URL('..', import.meta.url).pathname;
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const published = rootPkg.workspaces
  .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private);

let failures = 0;
const report = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

function npm(args, options = {}) {
  const r = spawnSync('npm', args, { encoding: 'utf8', cwd: root, ...options });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

// 1. File lists.
for (const { dir, pkg } of published) {
  const [info] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts', '-w', dir]));
  const files = info.files.map((f) => f.path);
  const problems = [];
  const entry = (pkg.exports?.['.']?.default ?? pkg.main ?? '').replace(/^\.\//, '');
  for (const needed of ['package.json', 'README.md', 'LICENSE', entry]) if (!files.includes(needed)) problems.push(`missing ${needed}`);
  for (const bin of Object.values(pkg.bin ?? {})) if (!files.includes(bin.replace(/^\.\//, ''))) problems.push(`missing bin ${bin}`);
  if (pkg.man && !files.includes(pkg.man.replace(/^\.\//, ''))) problems.push(`missing man page ${pkg.man}`);
  for (const f of files) {
    if (f.endsWith('.map')) problems.push(`source map ${f} (its sources are not shipped)`);
    if (/(^|\/)(test|src)\//.test(f) || /\.test\.[cm]?[jt]s$/.test(f)) problems.push(`${f} should not be published`);
  }
  for (const [name, range] of Object.entries(pkg.dependencies ?? {})) {
    if (published.some((p) => p.pkg.name === name) && !/^\^\d/.test(range)) problems.push(`dependency ${name}@"${range}" is not a caret range`);
  }
  if (pkg.name.startsWith('@') && pkg.publishConfig?.access !== 'public') problems.push('scoped but publishConfig.access is not "public"');
  for (const field of ['repository', 'homepage', 'bugs', 'keywords', 'license']) if (!pkg[field]) problems.push(`no ${field}`);
  report(problems.length === 0, `pack --dry-run ${pkg.name}: ${files.length} files${problems.length ? `: ${problems.join('; ')}` : ''}`);
}

// 2. Install the tarballs outside the repository and use them.
const work = mkdtempSync(join(tmpdir(), 'multiget-pack-'));
let server;
try {
  const tarballs = [];
  for (const { dir } of published) {
    const [info] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work, '-w', dir]));
    tarballs.push(join(work, info.filename));
  }
  const app = join(work, 'app');
  execFileSync('mkdir', [app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check-app', private: true, type: 'module' }));
  npm(['install', '--no-audit', '--no-fund', ...tarballs], { cwd: app });
  report(true, `installed ${tarballs.length} tarballs into a fresh folder outside the repository`);

  const version = spawnSync('npx', ['--no-install', 'multiget', '--version'], { cwd: app, encoding: 'utf8' });
  const cliPkg = published.find((p) => p.pkg.bin?.multiget);
  report(version.status === 0 && version.stdout.trim() === `multiget ${cliPkg?.pkg.version}`, `npx multiget --version there: ${JSON.stringify(version.stdout.trim() || version.stderr.trim())}`);

  const { startHttpServer, sha256 } = await import('@multiget/test-servers');
  server = await startHttpServer();
  const content = { size: 3 * 1024 * 1024 + 7, seed: 99 };
  server.addFile('/big.iso', content);
  const [library] = repoReadmeExamples({ url: server.url('/big.iso'), sha256: sha256(content) });
  writeFileSync(join(app, library.name), library.code);
  // Asynchronously: the test server answering it runs in this process.
  const run = await new Promise((resolve) => {
    const child = spawn(process.execPath, [library.name], { cwd: app, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
  const file = join(app, 'downloads', 'big.iso');
  let digest = '';
  try {
    digest = createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    // No file: reported below.
  }
  report(
    run.status === 0 && digest === sha256(content),
    `the README's library example, run from the installed packages: exit ${run.status}${run.status === 0 ? '' : `\n${run.stderr}`}`,
  );
} catch (err) {
  report(false, err instanceof Error ? err.message : String(err));
} finally {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
}

console.log(failures === 0 ? 'packages: all checks passed' : `packages: ${failures} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
