#!/usr/bin/env node
// The JavaScript half of a package's build (`tsc --emitDeclarationOnly` writes the types): bundles the
// package's own modules into one file per entry point, so that Node.js resolves, reads and links a
// handful of files at start-up instead of one per source module. Core alone is about 95 modules; as
// files they took 40-45 ms to import with V8's compile cache warm, bundled 17-21 ms, and a `multiget`
// command pays that before its first request.
//
// Run from a package's folder:
// `node ../../scripts/bundle-package.mjs [src/extra-entry.ts ...] [--own-module src/X.ts ...]`.
// - Entries: every `./dist/X.js` the package's `exports` names (from `src/X.ts`), plus the extra ones
//   given (what a `bin/` script imports), each written to the same path under dist/.
// - Dependencies stay imports (`packages: 'external'`): npm resolves them as before, and two packages
//   that import @multiget/core share one copy of it.
// - Code shared by several entries goes to `dist/chunk-*.js` (splitting), so `@multiget/core` and
//   `@multiget/core/testing` see the same classes; a module loaded with `import()` stays a chunk of its
//   own, loaded when first used.
// - Chunks sit in dist/ itself, as deep as the entries that read `new URL('../package.json',
//   import.meta.url)`, so that path still names the package's own package.json.
// - `--own-module src/X.ts` (a module at the top of src/) keeps X as a file of its own, dist/X.js,
//   imported where the sources import it: for a module whose side effect must run before an external
//   package's module is evaluated. A bundle hoists every import of a package above its own code, so
//   bundled, X would run after them (protocol-http's deferHttp2, which must precede undici's Client).
// - JavaScript and source maps under dist/ that this build did not write (an earlier build's
//   per-module files) are removed, so nothing stale can be imported or published. The build writes no
//   source maps: the sources they would point to are not published.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';

const pkgDir = process.cwd();
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));

const targets = new Set();
const collect = (value) => {
  if (typeof value === 'string') {
    const m = /^\.\/dist\/(.+)\.js$/.exec(value);
    if (m) targets.add(`src/${m[1]}.ts`);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) collect(v);
  }
};
collect(pkg.exports ?? pkg.main);
const ownModules = new Set();
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (arg === '--own-module') {
    const file = process.argv[++i];
    if (!/^src\/[^/]+\.ts$/.test(file ?? '')) throw new Error(`--own-module takes a module at the top of src/, not ${file}`);
    ownModules.add(resolve(pkgDir, file));
    targets.add(file);
  } else {
    targets.add(arg);
  }
}

/** Imports of an --own-module stay imports of its dist/ file (entries and chunks at dist/'s top). */
const keepOwnModules = {
  name: 'own-modules',
  setup(b) {
    b.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const target = resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts'));
      if (!ownModules.has(target)) return undefined;
      return { path: `./${basename(target, '.ts')}.js`, external: true };
    });
  },
};

const result = await build({
  absWorkingDir: pkgDir,
  entryPoints: [...targets],
  outbase: 'src',
  outdir: 'dist',
  entryNames: '[dir]/[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  packages: 'external',
  metafile: true,
  plugins: [keepOwnModules],
  logLevel: 'warning',
});

// The kept import is relative to the output that holds it: right only in dist/ itself.
for (const [out, { imports }] of Object.entries(result.metafile.outputs)) {
  const own = imports.find((i) => i.external && ownModules.has(resolve(pkgDir, 'src', i.path.replace(/\.js$/, '.ts'))));
  if (own && dirname(join(pkgDir, out)) !== join(pkgDir, 'dist')) throw new Error(`${out} imports --own-module ${own.path} but is not at the top of dist/`);
}

const written = new Set(Object.keys(result.metafile.outputs).map((out) => join(pkgDir, out)));
const stale = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (/\.(js|map)$/.test(entry.name) && !written.has(path)) stale.push(path);
  }
};
walk(join(pkgDir, 'dist'));
for (const path of stale) rmSync(path);
