/**
 * Whether `a` and `b` name the same server: the same scheme, host and port (userinfo, path and
 * query aside). The rule for "may this request carry the secrets given for that URL". Not
 * `a.origin === b.origin`: the URL standard gives every scheme it does not know (`sftp:`, a
 * plugin's own) the opaque origin `"null"`, so every such URL would match every other.
 */
export function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.host === b.host;
}
