import tls from 'node:tls';

/** PEM certificates as the `ca` option takes them. */
export type CaOption = string | Buffer | Array<string | Buffer>;

/**
 * The trust store for `ca`: Node.js replaces its defaults when `ca` is given, so the defaults
 * (bundled roots, NODE_EXTRA_CA_CERTS and, with --use-system-ca, the system store) come first and
 * the extra certificates are added to them, never substituted.
 */
export function trustStore(ca: CaOption): Array<string | Buffer> {
  const defaults = typeof tls.getCACertificates === 'function' ? tls.getCACertificates('default') : [...tls.rootCertificates];
  return [...defaults, ...(Array.isArray(ca) ? ca : [ca])];
}
