// Property-based tests of the JSON-RPC params checks: whatever a client sends, every check returns
// or throws a DownloadError (whose code travels in the error's data), and what it returns keeps the
// rules: paths absolute, relative ones inside the download directory, none in the state directory,
// numbers in range, headers safe to send.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import { checkOption, isDownloadError } from '@multiget/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseAddFolderParams,
  parseAddManyParams,
  parseAddParams,
  parseIdParams,
  parseMoveParams,
  parseNoParams,
  parseRemoveParams,
  parseResumeParams,
  parseSetPriorityParams,
  parseSetRateLimitParams,
  parseSetSettingsParams,
  type PathRules,
} from '../src/params.js';

const SCHEMES = ['http:', 'https:', 'ftp:', 'ftps:', 'sftp:'];
let root: string;
let rules: PathRules;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mg-params-'));
  rules = { dir: join(root, 'downloads'), stateDir: join(root, 'downloads', 'state') };
  await mkdir(rules.stateDir, { recursive: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Runs a check; a throw must be a DownloadError. Returns the result, or undefined when it threw. */
function checked<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    expect(isDownloadError(err), String(err)).toBe(true);
    return undefined;
  }
}

const pathText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.array(fc.constantFrom('..', '.', 'a', 'b.iso', '/', '\\', 'state', 'downloads', '\0', ' ', '~', '%2e%2e'), { maxLength: 8 }).map((p) => p.join('/')),
  fc.constantFrom('STATE', 'DL').map((w) => w),
);
/** Expands the placeholders of `pathText` to this run's directories. */
function realPath(p: string): string {
  if (p === 'STATE') return join(rules.stateDir, 'queue.json');
  if (p === 'DL') return rules.dir;
  return p;
}

const loose = fc.oneof(fc.jsonValue(), fc.anything({ withNullPrototype: true, withObjectString: true }));
const addItem = fc.record(
  {
    url: fc.oneof(fc.constantFrom('https://h.example/f.iso', 'ftp://u:p@h/f', 'file:///etc/passwd', 'javascript:alert(1)', 'http://', 'sftp://h/x'), fc.string(), loose),
    output: fc.oneof(pathText, loose),
    dir: fc.oneof(pathText, loose),
    connections: fc.oneof(fc.integer({ min: -5, max: 300 }), fc.double(), loose),
    checksum: fc.oneof(fc.constantFrom('sha256=' + 'a'.repeat(64), 'md5=xyz', 'sha1='), fc.string(), loose),
    // Built as JSON.parse builds a message: `__proto__` is then an own key like any other.
    headers: fc.oneof(
      fc
        .array(fc.tuple(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'X-Api-Key')), fc.oneof(fc.string({ maxLength: 10 }), loose)), { maxLength: 4 })
        .map((entries) => Object.fromEntries(entries) as Record<string, unknown>),
      loose,
    ),
    priority: fc.oneof(fc.integer(), loose),
    rateLimit: fc.oneof(fc.integer({ min: -1, max: 10 }), fc.constant(Number.MAX_SAFE_INTEGER + 2), loose),
    existing: fc.oneof(fc.constantFrom('fail', 'rename', 'overwrite', 'FAIL'), loose),
    credentials: fc.oneof(fc.record({ username: fc.string(), password: fc.string() }), fc.record({ bearer: fc.string() }), loose),
    extra: loose,
  },
  { requiredKeys: [] },
).map((item) => {
  const out: Record<string, unknown> = { ...item };
  if (typeof out['output'] === 'string') out['output'] = realPath(out['output']);
  if (typeof out['dir'] === 'string') out['dir'] = realPath(out['dir']);
  return out;
});

describe('JSON-RPC params (property)', () => {
  it('multiget/add: a DownloadError or options that keep the rules', () => {
    fc.assert(
      fc.property(fc.oneof(addItem, loose), (raw) => {
        const result = checked(() => parseAddParams(raw, SCHEMES, rules));
        if (result === undefined) return;
        const o = result.options;
        expect(() => new URL(result.url)).not.toThrow();
        for (const path of [o.output, o.dir]) {
          if (path === undefined) continue;
          expect(isAbsolute(path)).toBe(true);
          expect(inside(path, rules.stateDir)).toBe(false);
          expect(path).not.toContain('\0');
        }
        const given = raw as Record<string, unknown>;
        if (typeof given['output'] === 'string' && !isAbsolute(given['output'])) expect(inside(o.output!, rules.dir)).toBe(true);
        if (o.connections !== undefined) expect(Number.isInteger(o.connections) && o.connections >= 1 && o.connections <= 256).toBe(true);
        if (o.rateLimit !== undefined) expect(Number.isSafeInteger(o.rateLimit) && o.rateLimit >= 1).toBe(true);
        for (const [name, value] of Object.entries(o.headers ?? {})) {
          expect(name).toMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
          expect(value).not.toMatch(/[\r\n\0]/);
        }
        // Every header the client named is kept, none silently dropped.
        if (o.headers !== undefined) expect(Object.keys(o.headers).sort()).toEqual(Object.keys(given['headers'] as object).map((k) => k.toLowerCase()).sort());
      }),
      { numRuns: 3000 },
    );
  });

  it('multiget/add: every header of a message is kept or the message refused, never one silently dropped', () => {
    const name = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,12}$/), fc.constantFrom('__proto__', 'constructor', 'toString', 'X-Api-Key'));
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.stringMatching(/^[ -~]{0,12}$/)), { maxLength: 5 }), (entries) => {
        // The message as the wire delivers it: JSON text parsed by JSON.parse.
        const text = `{"url":"https://h.example/f","headers":{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}}`;
        const raw: unknown = JSON.parse(text);
        const result = checked(() => parseAddParams(raw, SCHEMES, rules));
        if (result === undefined) return;
        const given = Object.keys((raw as { headers: object }).headers);
        // Names come back lower-case (HTTP field names are case-insensitive).
        expect(Object.keys(result.options.headers ?? {}).sort()).toEqual(given.map((k) => k.toLowerCase()).sort());
      }),
      { numRuns: 2000 },
    );
  });

  it('multiget/addMany: all items checked or a DownloadError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.record({ items: fc.array(fc.oneof(addItem, loose), { maxLength: 4 }) }), loose), (raw) => {
        const items = checked(() => parseAddManyParams(raw, SCHEMES, rules));
        if (items !== undefined) expect(items.length).toBe((raw as { items: unknown[] }).items.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('multiget/addFolder: a DownloadError or a folder place that keeps the path rules, globs as lists of text, and options for each file without a target', () => {
    const globList = fc.oneof(fc.array(fc.oneof(fc.constantFrom('*.iso', '**/x', '', 'a\0b'), fc.string({ maxLength: 8 })), { maxLength: 4 }), loose);
    const folderItem = fc
      .tuple(addItem, fc.record({ include: globList, exclude: globList, depth: fc.oneof(fc.integer({ min: -2, max: 70 }), loose) }, { requiredKeys: [] }))
      .map(([item, tree]) => {
        const { headers: _h, ...rest } = item;
        return { ...rest, ...tree };
      });
    let accepted = 0;
    // Mostly well-formed params, so that the rules are also checked on params that pass.
    const wellFormed = fc
      .record(
        {
          url: fc.constantFrom('ftp://h.example/pub/', 'sftp://u@h.example/data', 'ftps://u:p@h.example/'),
          output: pathText,
          include: fc.array(fc.constantFrom('*.iso', '**/x', '{a,b}.bin'), { maxLength: 3 }),
          exclude: fc.array(fc.constantFrom('*.txt', 'tmp'), { maxLength: 3 }),
          depth: fc.integer({ min: 0, max: 64 }),
          connections: fc.integer({ min: 1, max: 256 }),
          checksum: fc.constant('auto'),
        },
        { requiredKeys: ['url'] },
      )
      .map((r) => (typeof r.output === 'string' ? { ...r, output: realPath(r.output) } : r));
    fc.assert(
      fc.property(fc.oneof(wellFormed, folderItem, loose), (raw) => {
        const result = checked(() => parseAddFolderParams(raw, SCHEMES, rules));
        if (result === undefined) return;
        accepted++;
        expect(() => new URL(result.url)).not.toThrow();
        const { output, dir, include, exclude } = result.folder;
        for (const path of [output, dir]) {
          if (path === undefined) continue;
          expect(isAbsolute(path)).toBe(true);
          expect(inside(path, rules.stateDir)).toBe(false);
        }
        const given = raw as Record<string, unknown>;
        if (typeof given['output'] === 'string' && !isAbsolute(given['output'])) expect(inside(output!, rules.dir)).toBe(true);
        for (const list of [include, exclude]) {
          if (list === undefined) continue;
          expect(list.every((g) => typeof g === 'string' && g !== '' && !g.includes('\0'))).toBe(true);
        }
        expect(result.each.output).toBeUndefined();
        expect(result.each.dir).toBeUndefined();
        if (result.each.connections !== undefined) expect(result.each.connections >= 1 && result.each.connections <= 256).toBe(true);
      }),
      { numRuns: 2000 },
    );
    // The rules above were checked on params that passed, not only on refusals.
    expect(accepted).toBeGreaterThan(0);
  });

  it('the other requests: a DownloadError or params of the documented shape', () => {
    const idish = fc.oneof(fc.string({ maxLength: 20 }), loose);
    const params = fc.oneof(
      loose,
      fc.record({ id: idish, priority: fc.oneof(fc.integer(), loose), index: fc.oneof(fc.integer(), loose), rateLimit: fc.oneof(fc.integer(), fc.constant(null), loose), deleteData: fc.oneof(fc.boolean(), loose), credentials: loose }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(params, (raw) => {
        checked(() => parseNoParams(raw));
        const id = checked(() => parseIdParams(raw));
        if (id !== undefined) expect(typeof id.id === 'string' && id.id !== '' && !id.id.includes('\0')).toBe(true);
        checked(() => parseResumeParams(raw));
        const remove = checked(() => parseRemoveParams(raw));
        if (remove !== undefined) expect(typeof remove.deleteData).toBe('boolean');
        // The wire shape here, the range in core (as the service does: the manager checks it). A
        // priority of -5e-324 (a number, so of the right shape) once came through the parser alone.
        const priority = checked(() => {
          const p = parseSetPriorityParams(raw);
          checkOption('priority', p.priority);
          return p;
        });
        if (priority !== undefined) expect(Number.isSafeInteger(priority.priority)).toBe(true);
        const move = checked(() => parseMoveParams(raw));
        if (move !== undefined) expect(Number.isSafeInteger(move.index) && move.index >= 0).toBe(true);
        const rate = checked(() => {
          const p = parseSetRateLimitParams(raw);
          if (p.rateLimit !== null) checkOption('rateLimit', p.rateLimit);
          return p;
        });
        if (rate !== undefined) expect(rate.rateLimit === null || (Number.isSafeInteger(rate.rateLimit) && rate.rateLimit >= 1)).toBe(true);
      }),
      { numRuns: 3000, examples: [[{ id: ' ', priority: -5e-324 }], [{ id: 'a', priority: 1.5 }]] },
    );
  });

  it('multiget/setSettings: a DownloadError or a patch whose dir is absolute and outside the state directory', () => {
    const settings = fc.oneof(
      loose,
      fc.record({ maxConcurrent: fc.oneof(fc.integer({ min: -1, max: 2000 }), loose), connections: fc.integer({ min: -1, max: 300 }), retries: fc.integer({ min: -1, max: 2000 }), rateLimit: fc.oneof(fc.integer(), fc.constant(null)), dir: fc.oneof(pathText, loose) }, { requiredKeys: [] }).map((r) => (typeof r.dir === 'string' ? { ...r, dir: realPath(r.dir) } : r)),
    );
    fc.assert(
      fc.property(settings, (raw) => {
        const patch = checked(() => parseSetSettingsParams(raw, rules.stateDir));
        if (patch?.dir !== undefined) {
          expect(isAbsolute(patch.dir)).toBe(true);
          expect(inside(patch.dir, rules.stateDir)).toBe(false);
        }
        if (patch?.maxConcurrent !== undefined) expect(patch.maxConcurrent >= 1 && patch.maxConcurrent <= 1000).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
