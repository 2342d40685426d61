import { isSecretParam } from '@multiget/core';

/** Secrets shorter than this are not searched for: replacing "ab" everywhere would garble messages. */
const MIN_SECRET_LENGTH = 4;

/**
 * Removes known secrets (passwords, tokens) from text before it is printed. Defence in depth:
 * messages come from the engine and from protocol plugins, which promise to redact URLs, but a
 * leaked password cannot be taken back, so every message passes through here as well.
 */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Adds a secret; percent-encoded and decoded forms are both removed. */
  add(secret: string | undefined): this {
    if (secret === undefined) return this;
    for (const form of [secret, safeDecode(secret), encodeURIComponent(secret)]) {
      if (form.length >= MIN_SECRET_LENGTH) this.#secrets.add(form);
    }
    return this;
  }

  /** Adds the password of a URL and the values of its signature and token parameters. */
  addUrl(raw: string): this {
    try {
      const u = new URL(raw);
      if (u.password) this.add(u.password);
      for (const [name, value] of u.searchParams) if (isSecretParam(name)) this.add(value);
    } catch {
      // An unparsable URL never reaches the network, and redactUrl() cuts its authority.
    }
    return this;
  }

  /** `text` with every secret replaced by `***`. */
  text(text: string): string {
    let out = text;
    for (const s of this.#secrets) out = out.split(s).join('***');
    return out;
  }

  /** A copy of a JSON-ready value with every string passed through {@link Redactor.text}. */
  json<T>(value: T): T {
    if (this.#secrets.size === 0) return value;
    return this.#walk(value) as T;
  }

  #walk(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.#walk(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.#walk(v)]));
    }
    return value;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
