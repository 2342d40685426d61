/**
 * Keeps docs/plugins.md honest: every line of its ```ts code blocks must be a line of the example
 * sources here or of the example plugins and their tests (all compiled and run), so the page cannot
 * show code that no longer builds.
 * Run by `npm run docs:example`; prints each line it cannot find and exits 1.
 */
import { readFile } from 'node:fs/promises';

const here = new URL('../', import.meta.url); // docs/examples/dist/ -> docs/examples/
const page = await readFile(new URL('../plugins.md', here), 'utf8');
// The page also quotes the example plugins and a conformance test, which CI runs as tests.
const files = [
  'DataUrlPlugin.ts',
  'dataUrlExample.ts',
  '../../examples/tcpfile/TcpFilePlugin.ts',
  '../../examples/tcpfile/TcpFilePlugin.nodetest.ts',
  '../../examples/signed-url/SignedUrlPlugin.ts',
  '../../packages/protocol-http/test/conformance.test.ts',
];
const sources = await Promise.all(files.map((f) => readFile(new URL(f, here), 'utf8')));
const known = new Set(sources.flatMap((s) => s.split('\n').map((l) => l.trim())));

const missing: string[] = [];
for (const block of page.matchAll(/```ts\n([\s\S]*?)```/g)) {
  for (const line of (block[1] ?? '').split('\n')) {
    const code = line.trim();
    // Comments on the page may explain more than the source does; `// ...` marks an omission.
    if (code === '' || code.startsWith('//')) continue;
    if (!known.has(code)) missing.push(code);
  }
}
if (missing.length > 0) {
  console.error(`docs/plugins.md shows code that is not in docs/examples:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
console.log('docs/plugins.md: every code line is in the compiled examples');
