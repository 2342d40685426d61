/**
 * Query parameters that carry a signature, a token or an expiry: the same object signed twice gets
 * two URLs that differ only in these. Lower-case names; `x-amz-*` and `x-goog-*` as prefixes.
 * (S3 and GitHub release assets, Google Cloud Storage, CloudFront, Azure SAS, common token names.)
 */
const SIGNATURE_PARAMS: ReadonlySet<string> = new Set([
  'signature',
  'sig',
  'token',
  'access_token',
  'expires',
  'key-pair-id',
  'policy',
  'awsaccesskeyid',
  'se',
  'st',
  'sp',
  'sv',
  'sr',
  'spr',
  'skoid',
  'sktid',
  'skt',
  'ske',
  'sks',
  'skv',
]);

function isSignatureParam(name: string): boolean {
  const n = name.toLowerCase();
  return SIGNATURE_PARAMS.has(n) || n.startsWith('x-amz-') || n.startsWith('x-goog-');
}

/**
 * The content store's name for a URL: without user info, fragment and signature query parameters,
 * so that it holds no secret and a re-signed link of the same object finds the same record.
 */
export function contentKey(url: URL): string {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  u.hash = '';
  for (const name of [...u.searchParams.keys()]) if (isSignatureParam(name)) u.searchParams.delete(name);
  // `URLSearchParams` rewrites an emptied query as `?`: drop it, so `a?X-Amz-...` equals `a`.
  if (u.search === '?') u.search = '';
  return u.href;
}
