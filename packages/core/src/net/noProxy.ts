import { BlockList, isIP } from 'node:net';

/** One entry of a NO_PROXY list. */
type Rule =
  | { kind: 'all' }
  | { kind: 'domain'; name: string; port: number | undefined }
  | { kind: 'address'; list: BlockList; port: number | undefined };

/** Lower case, without the brackets of an IPv6 literal and without a final dot. */
export function normalizeHost(host: string): string {
  let out = host.toLowerCase();
  if (out.startsWith('[') && out.endsWith(']')) out = out.slice(1, -1);
  if (out.endsWith('.')) out = out.slice(0, -1);
  return out;
}

function familyOf(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 literal: the host and the port, if any. */
function splitPort(entry: string): { host: string; port: number | undefined } | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return { host: bracketed[1] ?? '', port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  // A bare IPv6 literal (or CIDR) has several colons and no port.
  if ((entry.match(/:/g) ?? []).length > 1) return { host: entry, port: undefined };
  const withPort = /^(.*):(\d+)$/.exec(entry);
  if (withPort !== null) return { host: withPort[1] ?? '', port: Number(withPort[2]) };
  if (entry.includes(':')) return undefined;
  return { host: entry, port: undefined };
}

function parseRule(raw: string): Rule | undefined {
  if (raw === '*') return { kind: 'all' };
  const split = splitPort(raw);
  if (split === undefined || split.host === '') return undefined;
  const { port } = split;
  const cidr = /^(.+)\/(\d{1,3})$/.exec(split.host);
  if (cidr !== null) {
    const address = normalizeHost(cidr[1] ?? '');
    const family = familyOf(address);
    const prefix = Number(cidr[2]);
    if (family === undefined || prefix > (family === 'ipv4' ? 32 : 128)) return undefined;
    const list = new BlockList();
    list.addSubnet(address, prefix, family);
    return { kind: 'address', list, port };
  }
  const host = normalizeHost(split.host);
  const family = familyOf(host);
  if (family !== undefined) {
    const list = new BlockList();
    list.addAddress(host, family);
    return { kind: 'address', list, port };
  }
  // `.example.com` and `*.example.com` are written for the subdomains; like curl, they also
  // cover example.com itself, and a plain `example.com` covers its subdomains too.
  const name = host.replace(/^\*?\./, '');
  if (name === '' || name.includes('*') || name.includes('/')) return undefined;
  return { kind: 'domain', name, port };
}

/**
 * A NO_PROXY list: hosts that are reached directly, never through a proxy.
 *
 * Entries are separated by commas or white space and compared without regard to case:
 * - `*` alone: every host;
 * - `example.com`, `.example.com`, `*.example.com`: that domain and every name below it;
 * - `192.168.0.7`, `::1`, `[::1]`: that address, when the URL names it literally (no DNS lookup);
 * - `10.0.0.0/8`, `fd00::/8`: addresses in that range, again only literal ones;
 * - any of these followed by `:PORT` (`[v6]:PORT` for IPv6): only URLs to that port.
 *
 * Entries that fit none of these forms are ignored, as other tools ignore them.
 */
export class NoProxyList {
  private readonly rules: readonly Rule[];

  /** @param text - The list as NO_PROXY holds it; empty or undefined for none. */
  constructor(text: string | undefined) {
    this.rules = (text ?? '')
      .split(/[\s,]+/)
      .filter((entry) => entry !== '')
      .map(parseRule)
      .filter((rule): rule is Rule => rule !== undefined);
  }

  /** True when the list has no usable entry. */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /**
   * Whether a connection to `host`:`port` bypasses the proxy.
   *
   * @param host - A host name or IP literal (IPv6 with or without brackets).
   * @param port - The port the URL connects to (its default port when it names none).
   */
  matches(host: string, port: number): boolean {
    const name = normalizeHost(host);
    const family = familyOf(name);
    return this.rules.some((rule) => {
      if (rule.kind === 'all') return true;
      if (rule.port !== undefined && rule.port !== port) return false;
      if (rule.kind === 'address') return family !== undefined && rule.list.check(name, family);
      return family === undefined && (name === rule.name || name.endsWith(`.${rule.name}`));
    });
  }
}
