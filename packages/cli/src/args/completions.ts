import { FLAGS, type FlagSpec } from './flags.js';

/** The shells `multiget --completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;

/** One of {@link COMPLETION_SHELLS}. */
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/** What a flag's value completes to: a file, a directory, one of a list, or nothing known. */
type ValueKind = { kind: 'file' } | { kind: 'dir' } | { kind: 'choice'; words: readonly string[] } | { kind: 'none' };

function valueKind(f: FlagSpec): ValueKind {
  if (f.choices) return { kind: 'choice', words: f.choices };
  if (f.value === 'FILE') return { kind: 'file' };
  if (f.value === 'DIR') return { kind: 'dir' };
  return { kind: 'none' };
}

/** The first line of a flag's help, for the one-line descriptions shells show. */
function summary(f: FlagSpec): string {
  return f.help.split('\n')[0]!;
}

function names(f: FlagSpec): string[] {
  return f.short ? [`-${f.short}`, `--${f.name}`] : [`--${f.name}`];
}

function bash(): string {
  const byKind = (test: (k: ValueKind) => boolean): string =>
    FLAGS.filter((f) => f.type === 'string' && test(valueKind(f)))
      .flatMap(names)
      .join('|');
  const choices = FLAGS.filter((f) => f.choices).map(
    (f) => `    ${names(f).join('|')}) COMPREPLY=($(compgen -W '${f.choices!.join(' ')}' -- "$cur")); return ;;`,
  );
  const all = FLAGS.flatMap(names).join(' ');
  return [
    '# bash completion for multiget, generated from its flags table by `multiget --completion bash`.',
    '# Load it with: eval "$(multiget --completion bash)"  (e.g. in ~/.bashrc)',
    '_multiget() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  case "$prev" in',
    `    ${byKind((k) => k.kind === 'file')}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`,
    `    ${byKind((k) => k.kind === 'dir')}) COMPREPLY=($(compgen -d -- "$cur")); return ;;`,
    ...choices,
    // A value nothing is known about (a count, a size, a URL): offer nothing rather than flags.
    `    ${byKind((k) => k.kind === 'none')}) COMPREPLY=(); return ;;`,
    '  esac',
    '  if [[ "$cur" == -* ]]; then',
    `    COMPREPLY=($(compgen -W '${all}' -- "$cur"))`,
    '  fi',
    '}',
    'complete -o bashdefault -o default -F _multiget multiget',
    '',
  ].join('\n');
}

/** Text inside a zsh `_arguments` spec: brackets, colons and quotes escaped. */
function zshText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/'/g, `'\\''`).replace(/([[\]:])/g, '\\$1');
}

function zsh(): string {
  const specs = FLAGS.map((f) => {
    const desc = `[${zshText(summary(f))}]`;
    const kind = valueKind(f);
    const action =
      f.type === 'boolean'
        ? ''
        : `:${zshText(f.value ?? 'VALUE')}:${kind.kind === 'file' ? '_files' : kind.kind === 'dir' ? '_files -/' : kind.kind === 'choice' ? `(${kind.words.join(' ')})` : ' '}`;
    const repeat = f.multiple ? '*' : '';
    if (!f.short) return `  '${repeat}--${f.name}${desc}${action}'`;
    // The two spellings exclude each other, unless the flag may be repeated.
    const exclusion = f.multiple ? '*' : `(-${f.short} --${f.name})`;
    return `  '${exclusion}'{-${f.short},--${f.name}}'${desc}${action}'`;
  });
  return [
    '#compdef multiget',
    '# zsh completion for multiget, generated from its flags table by `multiget --completion zsh`.',
    '# Install: multiget --completion zsh > "${fpath[1]}/_multiget"  (then start a new shell)',
    '_arguments -s -S \\',
    ...specs.map((s) => `${s} \\`),
    "  '*:URL:_urls'",
    '',
  ].join('\n');
}

function fishText(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function fish(): string {
  const lines = FLAGS.map((f) => {
    const parts = ['complete -c multiget'];
    if (f.short) parts.push(`-s ${f.short}`);
    parts.push(`-l ${f.name}`);
    const kind = valueKind(f);
    if (f.type === 'string') {
      if (kind.kind === 'file') parts.push('-r -F');
      else if (kind.kind === 'dir') parts.push("-x -a '(__fish_complete_directories)'");
      else if (kind.kind === 'choice') parts.push(`-x -a ${fishText(kind.words.join(' '))}`);
      else parts.push('-x');
    }
    parts.push(`-d ${fishText(summary(f))}`);
    return parts.join(' ');
  });
  return [
    '# fish completion for multiget, generated from its flags table by `multiget --completion fish`.',
    '# Install: multiget --completion fish > ~/.config/fish/completions/multiget.fish',
    ...lines,
    '',
  ].join('\n');
}

/**
 * The completion script for `shell`, generated from the same flags table the parser, `--help` and
 * the man page read, so a flag completes exactly when it exists.
 */
export function completionScript(shell: CompletionShell): string {
  return shell === 'bash' ? bash() : shell === 'zsh' ? zsh() : fish();
}
