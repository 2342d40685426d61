import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Names the protocol declares as its own copy of a core type with the same values, kept equal by
 * compile-time checks in src/dto.ts: the same name there says the same thing.
 */
const SAME_TYPE_COPIES = new Set(['PauseReason']);

const file = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));

/** Each exported name of a module, with the symbol it finally stands for (aliases followed). */
function exportsOf(checker: ts.TypeChecker, sourceFile: ts.SourceFile): Map<string, ts.Symbol> {
  const moduleSymbol = checker.getSymbolAtLocation(sourceFile);
  if (moduleSymbol === undefined) throw new Error(`${sourceFile.fileName} is not a module`);
  const out = new Map<string, ts.Symbol>();
  for (const s of checker.getExportsOfModule(moduleSymbol)) {
    out.set(s.name, s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  }
  return out;
}

describe('export names', () => {
  // A front-end that imports both @multiget/core and @multiget/server must not meet one name for
  // two different things (the protocol's DownloadState and DownloadResult once were core's names
  // for other types).
  it('@multiget/server exports no name that @multiget/core uses for something else', () => {
    const coreIndex = file('../../core/dist/index.d.ts');
    const serverIndex = file('../src/index.ts');
    const program = ts.createProgram([coreIndex, serverIndex], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
    });
    const checker = program.getTypeChecker();
    const source = (path: string): ts.SourceFile => {
      const sf = program.getSourceFile(path);
      if (sf === undefined) throw new Error(`${path} not in the program`);
      return sf;
    };
    const core = exportsOf(checker, source(coreIndex));
    const server = exportsOf(checker, source(serverIndex));
    // The check itself must see something: both indexes export well over a hundred names.
    expect(core.size).toBeGreaterThan(100);
    expect(server.has('DownloadInfo')).toBe(true);

    const clashes = [...server]
      .filter(([name, symbol]) => core.has(name) && core.get(name) !== symbol && !SAME_TYPE_COPIES.has(name))
      .map(([name]) => name);
    expect(clashes).toEqual([]);
    // Re-exports of core itself share the name and the symbol: not a clash.
    expect(server.get('resolveStateDir')).toBe(core.get('resolveStateDir'));
  });
});
