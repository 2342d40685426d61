// The README's library and manager examples, as runnable modules. The test suite (packages/cli/test/
// readmeExamples.e2e.test.ts) and the packaging check (scripts/pack-check.mjs) run exactly these
// code blocks, with only the placeholders below replaced, so that the README cannot teach code that
// does not work.
import { readFileSync } from 'node:fs';

/** Headings whose first ```ts block is an example, and the file name it is run as. */
const EXAMPLES = [
  { heading: '## The library', name: 'library.mjs' },
  { heading: '### Many downloads: the manager', name: 'manager.mjs' },
];

/**
 * @param {string} readme the text of README.md
 * @param {{ url: string; sha256: string }} target the file to download instead of example.com's
 * @returns {{ name: string; code: string }[]}
 */
export function readmeExamples(readme, target) {
  return EXAMPLES.map(({ heading, name }) => {
    const at = readme.indexOf(`\n${heading}\n`);
    if (at < 0) throw new Error(`README.md has no heading "${heading}"`);
    const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
    if (!block) throw new Error(`README.md has no ts block under "${heading}"`);
    let code = block[1];
    // Placeholders: each must be there (a README edit that drops one must update this list).
    const swaps = [
      [/https:\/\/example\.com\/[\w.-]+/g, target.url],
      [/sha256=9f86d0\.\.\./g, `sha256=${target.sha256}`],
    ];
    for (const [pattern, value] of swaps) {
      if (pattern.source.startsWith('sha256') && name !== 'library.mjs') continue;
      if (!pattern.test(code)) throw new Error(`the ${name} example no longer contains ${pattern}`);
      code = code.replace(pattern, value);
    }
    return { name, code };
  });
}

/** The examples of the README.md next to this script's repository root. */
export function repoReadmeExamples(target) {
  return readmeExamples(readFileSync(new URL('../README.md', import.meta.url), 'utf8'), target);
}

// `node scripts/readme-examples.mjs DIR URL SHA256` writes the examples into DIR (library.mjs,
// manager.mjs), for a test or CI step to run with node from there.
if (import.meta.url === new URL(process.argv[1] ?? '', 'file:').href) {
  const [dir, url, sha256] = process.argv.slice(2);
  if (!dir || !url || !sha256) {
    console.error('usage: node scripts/readme-examples.mjs DIR URL SHA256');
    process.exit(2);
  }
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  for (const { name, code } of repoReadmeExamples({ url, sha256 })) writeFileSync(join(dir, name), code);
}
