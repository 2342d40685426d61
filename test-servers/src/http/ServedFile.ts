import { createHash } from 'node:crypto';
import { validateHeaderValue } from 'node:http';
import { computeDigests, type RawDigests } from './digests.js';
import { alteredContent, contentSize, isGeneratedContent } from '../generatedContent.js';
import type { FileContent } from '../content.js';
import { FaultState, type Admission } from '../faults.js';
import type { FileOptions, HttpFaults } from './types.js';

/** One version of a file's bytes with the validators that name it. */
export class Representation {
  /** Length in bytes. */
  readonly size: number;
  private digests: Promise<RawDigests> | undefined;

  constructor(
    /** The bytes, real or generated. */
    readonly content: FileContent,
    /** ETag header value, or undefined for none. */
    readonly etag: string | undefined,
    /** Last-Modified header value, or undefined for none. */
    readonly lastModified: string | undefined,
  ) {
    this.size = contentSize(content);
  }

  /** Digests of this version, computed once and only if a response needs them. */
  rawDigests(wrong: boolean): Promise<RawDigests> {
    this.digests ??= computeDigests(this.content, wrong);
    return this.digests;
  }
}

const SECOND = 1000;

function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/**
 * Node writes header strings one byte per character, so a string is first turned into the bytes a
 * hostile server would send: its UTF-8 encoding. A Buffer gives the exact bytes (Latin-1, broken
 * UTF-8 ...). Node still refuses control characters, which would break the message framing.
 */
function wireValue(name: string, value: string | Buffer): string {
  const wire = Buffer.isBuffer(value) ? value.toString('latin1') : Buffer.from(value, 'utf8').toString('latin1');
  validateHeaderValue(name, wire);
  return wire;
}

function validator(name: string, value: string | false | undefined): string | false | undefined {
  return typeof value === 'string' ? wireValue(name, value) : value;
}

/** HTTP's own faults; the shared ones are checked by {@link FaultState}. */
function validateHttpFaults(faults: HttpFaults): void {
  const counts: (keyof HttpFaults)[] = ['maxConnections', 'latencyMs', 'trailingBytesAfterRange'];
  for (const key of counts) {
    const value = faults[key];
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) {
      throw new RangeError(`fault ${key} must be a non-negative number, got ${String(value)}`);
    }
  }
  if (faults.signedLinks !== undefined && !(faults.signedLinks.afterBytes >= 0)) {
    throw new RangeError(`fault signedLinks.afterBytes must be a non-negative number, got ${faults.signedLinks.afterBytes}`);
  }
  if (faults.slowRequest !== undefined && !(faults.slowRequest.bytesPerSec > 0)) {
    throw new RangeError(`fault slowRequest.bytesPerSec must be positive, got ${faults.slowRequest.bytesPerSec}`);
  }
}

/** A path the test server serves: its current representation, how to serve it, and its faults. */
export class ServedFile {
  /** What a request gets now. */
  current: Representation;
  /** Faults in force and their counters. */
  readonly faultState: FaultState<HttpFaults>;
  /** Responses with a body under way, the figure `maxConnections` limits. */
  serving = 0;
  /** Header values prepared once (validated, Latin-1). */
  readonly contentDisposition: string | undefined;
  readonly contentType: string;
  private version = 0;
  private explicitEtag: string | false | undefined;
  private explicitLastModified: string | false | undefined;
  private lastModifiedMs: number;
  /** Body bytes each `signedLinks` token may still carry, by token. */
  private readonly linkBudgets = new Map<string, number>();

  constructor(
    /** The path it was registered under. */
    readonly path: string,
    content: FileContent,
    /** Options as given (faults excluded: see `faults`). */
    readonly options: FileOptions,
  ) {
    this.contentDisposition = options.contentDisposition === undefined
      ? undefined
      : wireValue('content-disposition', options.contentDisposition);
    this.contentType = wireValue('content-type', options.contentType ?? 'application/octet-stream');
    this.explicitEtag = validator('etag', options.etag);
    this.explicitLastModified = validator('last-modified', options.lastModified);
    // An hour in the past: a fresh file must not look modified "in the future" to a client whose
    // clock is a little behind, and replacements need room to move forward.
    this.lastModifiedMs = Math.floor(Date.now() / SECOND) * SECOND - 3600 * SECOND;
    this.faultState = new FaultState<HttpFaults>(options.faults ?? {}, validateHttpFaults);
    this.current = this.represent(content);
  }

  /** New bytes: a new version, so a new default ETag and a Last-Modified at least a second later. */
  replace(content: FileContent, validators: Pick<FileOptions, 'etag' | 'lastModified'> = {}): void {
    if (validators.etag !== undefined) this.explicitEtag = validator('etag', validators.etag);
    if (validators.lastModified !== undefined) this.explicitLastModified = validator('last-modified', validators.lastModified);
    this.lastModifiedMs = Math.max(Math.floor(Date.now() / SECOND) * SECOND, this.lastModifiedMs + SECOND);
    this.current = this.represent(content);
  }

  /** Faults in force. */
  get faults(): HttpFaults {
    return this.faultState.faults;
  }

  /** Replace the faults and restart their counters. */
  setFaults(faults: HttpFaults): void {
    this.faultState.set(faults);
  }

  /**
   * Count a request that reached the file and apply `status`, `failTimes` and `replaceAfterRequests`
   * (the replacement happens here).
   */
  admit(): Admission {
    const admission = this.faultState.admit();
    if (admission.replace) this.replace(alteredContent(this.current.content));
    return admission;
  }

  /** A new `signedLinks` token, good for `afterBytes` body bytes. */
  signLink(): string {
    const afterBytes = this.faults.signedLinks?.afterBytes;
    if (afterBytes === undefined) throw new Error(`${this.path} has no signedLinks fault`);
    const token = `t${this.linkBudgets.size + 1}`;
    this.linkBudgets.set(token, afterBytes);
    return token;
  }

  /** Body bytes the token may still carry (0 for an unknown token). */
  linkLeft(token: string): number {
    return this.linkBudgets.get(token) ?? 0;
  }

  /** Counts body bytes sent under a token. */
  spendLink(token: string, bytes: number): void {
    const left = this.linkBudgets.get(token);
    if (left !== undefined) this.linkBudgets.set(token, Math.max(0, left - bytes));
  }

  /** Whether an `Authorization` header value satisfies `options.auth` (always, when none is set). */
  authorized(header: string | undefined): boolean {
    const auth = this.options.auth;
    if (auth === undefined) return true;
    if (header === undefined) return false;
    const [scheme = '', value = ''] = header.trim().split(/\s+/, 2);
    if ('bearer' in auth) return scheme.toLowerCase() === 'bearer' && value === auth.bearer;
    if (scheme.toLowerCase() !== 'basic') return false;
    return Buffer.from(value, 'base64').toString('utf8') === `${auth.username}:${auth.password}`;
  }

  /** The challenge of a 401, matching the kind of credentials configured. */
  challenge(): string {
    return this.options.auth !== undefined && 'bearer' in this.options.auth
      ? 'Bearer realm="multiget-test"'
      : 'Basic realm="multiget-test", charset="UTF-8"';
  }

  private represent(content: FileContent): Representation {
    this.version++;
    const etag = this.explicitEtag === false
      ? undefined
      : (this.explicitEtag ?? `"${contentTag(content)}-${this.version}"`);
    const lastModified = this.explicitLastModified === false
      ? undefined
      : (this.explicitLastModified ?? httpDate(this.lastModifiedMs));
    return new Representation(content, etag, lastModified);
  }
}

/** A short stable name of the bytes, so equal content gets equal ETags across servers. */
function contentTag(content: FileContent): string {
  const hash = createHash('sha256');
  if (isGeneratedContent(content)) hash.update(`generated:${content.size}:${content.seed ?? 0}`);
  else hash.update(content);
  return hash.digest('hex').slice(0, 16);
}
