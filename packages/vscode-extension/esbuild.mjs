// Bundles the extension so the .vsix carries no node_modules:
//   dist/extension.js      the extension (CommonJS, as VS Code 1.91 loads it; `vscode` is external)
//   dist/server.mjs        the service (@multiget/server and the engine), started detached as the shared service (--listen)
//   media/panel.js         the Downloads webview's script
//   dist/test/suite/index.js  the in-extension-host test suite (not packaged; see .vscodeignore)
// `--production` minifies and drops source maps.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const production = process.argv.includes('--production');

/** Leaves native addons (ssh2's optional crypto binding, cpu-features) to their pure-JS fallbacks. */
const nativeAddonsExternal = {
  name: 'native-addons-external',
  setup(build) {
    build.onResolve({ filter: /\.node$/ }, (args) => ({ path: args.path, external: true }));
    build.onResolve({ filter: /^cpu-features$/ }, (args) => ({ path: args.path, external: true }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  sourcemap: production ? false : 'linked',
  minify: production,
  legalComments: production ? 'none' : 'inline',
  logLevel: 'warning',
  absWorkingDir: here,
};

await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: { extension: 'src/extension.ts' },
    outdir: 'dist',
    format: 'cjs',
    // VS Code 1.91's extension host is Node 20.
    target: 'node20',
    external: ['vscode'],
  }),
  esbuild.build({
    ...common,
    entryPoints: ['src/server.ts'],
    outfile: 'dist/server.mjs',
    format: 'esm',
    target: 'node22',
    plugins: [nativeAddonsExternal],
    // CommonJS dependencies call require() for Node's built-ins (vscode-languageserver) and use
    // __dirname to find optional native bindings (ssh2): give the ESM bundle both.
    banner: {
      js:
        "import { createRequire as __mgCreateRequire } from 'node:module'; import { fileURLToPath as __mgToPath } from 'node:url'; " +
        "import { dirname as __mgDirname } from 'node:path'; const require = __mgCreateRequire(import.meta.url); " +
        'const __filename = __mgToPath(import.meta.url); const __dirname = __mgDirname(__filename);',
    },
  }),
  esbuild.build({
    ...common,
    entryPoints: ['src/webview-ui/main.ts'],
    outfile: 'media/panel.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    sourcemap: false,
  }),
  esbuild.build({
    ...common,
    entryPoints: { index: 'src/test/suite/index.ts' },
    outdir: 'dist/test/suite',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  }),
]);
