// How an executable's shebang runs it, so that the bench runs multiget (and a baseline checkout's)
// exactly as users' shells do, only with the Node the bench chose.
import { readFileSync } from 'node:fs';

/**
 * The environment assignments and the Node options of `bin`'s shebang
 * (`#!/usr/bin/env -S NAME=VALUE... node OPTION...`; a plain `#!/usr/bin/env node` has neither).
 * @returns {{ env: string[], nodeOptions: string[] }}
 */
export function shebangOf(bin) {
  const first = readFileSync(bin, 'utf8').split('\n', 1)[0];
  const m = /^#!\s*\/usr\/bin\/env\s+(?:-S\s+)?(.*)$/.exec(first);
  if (!m) throw new Error(`${bin}: not a "#!/usr/bin/env" shebang: ${first}`);
  const words = m[1].trim().split(/\s+/);
  const env = [];
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) env.push(words.shift());
  if (words.shift() !== 'node') throw new Error(`${bin}: the shebang does not run node: ${first}`);
  return { env, nodeOptions: words };
}
