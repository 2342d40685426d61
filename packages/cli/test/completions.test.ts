import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { COMPLETION_SHELLS, completionScript } from '../src/args/completions.js';
import { FLAGS } from '../src/args/flags.js';
import { manPage } from '../src/args/manPage.js';
import { parseArgs } from '../src/args/parseArgs.js';
import { CLI, Cleanup } from './helpers.js';

const cleanup = new Cleanup();
afterEach(() => cleanup.dispose());

/** Runs bash's completion function for the words typed so far (the last one is being completed). */
function bashComplete(words: string[], cwd: string): string[] {
  const script = [
    completionScript('bash'),
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_multiget',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = spawnSync('bash', ['--norc', '-c', script], { cwd, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '');
}

describe('shell completions and the man page come from the one flags table', () => {
  it('every flag the parser accepts is in each completion script, and nothing else', () => {
    for (const shell of COMPLETION_SHELLS) {
      const script = completionScript(shell);
      for (const f of FLAGS) {
        expect(script, `${shell}: --${f.name}`).toMatch(new RegExp(`(--|-l )${f.name}\\b`));
        if (f.short) expect(script, `${shell}: -${f.short}`).toMatch(new RegExp(`(-|-s )${f.short}\\b`));
        // And the parser takes it (a value where one is needed).
        const argv = f.type === 'string' ? [`--${f.name}=${f.choices?.[0] ?? '1'}`] : [`--${f.name}`];
        expect(() => parseArgs([...argv, 'http://h/f']), f.name).not.toThrow(/Unknown option/);
      }
    }
    const bashFlags = /compgen -W '([^']*)' -- "\$cur"\)\)\n {2}fi/.exec(completionScript('bash'))![1]!.split(' ');
    expect(bashFlags.sort()).toEqual(FLAGS.flatMap((f) => (f.short ? [`-${f.short}`, `--${f.name}`] : [`--${f.name}`])).sort());
  });

  it('bash completes flag names, choices and directories', async () => {
    const dir = await cleanup.tempDir();
    await mkdir(join(dir, 'downloads'));
    await writeFile(join(dir, 'urls.txt'), '');
    expect(bashComplete(['multiget', '--conn'], dir)).toEqual(['--connections', '--connect-timeout']);
    expect(bashComplete(['multiget', '--print-checksum', 'sha'], dir)).toEqual(['sha256', 'sha512', 'sha1']);
    expect(bashComplete(['multiget', '--completion', ''], dir)).toEqual(['bash', 'zsh', 'fish']);
    expect(bashComplete(['multiget', '-d', 'd'], dir)).toEqual(['downloads']);
    expect(bashComplete(['multiget', '-i', 'u'], dir)).toEqual(['urls.txt']);
    expect(bashComplete(['multiget', '-c', ''], dir)).toEqual([]);
  });

  it('the zsh script declares every flag to _arguments, the fish script one complete line a flag', () => {
    const zsh = completionScript('zsh');
    expect(zsh.startsWith('#compdef multiget\n')).toBe(true);
    expect(zsh.match(/^ {2}'/gm)!.length).toBe(FLAGS.length + 1); // + the URL argument
    const fish = completionScript('fish');
    expect(fish.match(/^complete -c multiget /gm)!.length).toBe(FLAGS.length);
  });

  it('multiget --completion prints the script; an unknown shell is a usage error', () => {
    expect(execFileSync(process.execPath, [CLI, '--completion', 'bash'], { encoding: 'utf8' })).toBe(completionScript('bash'));
    const bad = spawnSync(process.execPath, [CLI, '--completion', 'tcsh'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--completion.*tcsh.*bash, zsh, fish/);
  });

  it('the built man page is the generated one, renders without roff warnings and lists every flag', async () => {
    const built = fileURLToPath(new URL('../dist/multiget.1', import.meta.url));
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await readFile(built, 'utf8')).toBe(manPage(version));
    const check = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', built], { encoding: 'utf8' });
    expect(check.status).toBe(0);
    expect(check.stderr).toBe('');
    const text = execFileSync('groff', ['-man', '-Tascii', '-P', '-cbou', built], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '200' } });
    for (const f of FLAGS) expect(text, f.name).toContain(`--${f.name}`);
    expect(text).toMatch(/EXIT STATUS/);
  });
});
