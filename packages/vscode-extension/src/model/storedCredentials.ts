import type { DownloadCredentials } from '@multiget/server/protocol';

/** Parses a stored credentials value; anything malformed counts as none. */
export function parseStoredCredentials(raw: string | undefined): DownloadCredentials | undefined {
  if (raw === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return undefined;
    const v = value as Record<string, unknown>;
    if (typeof v['bearer'] === 'string' && v['bearer'] !== '') return { bearer: v['bearer'] };
    if (typeof v['username'] === 'string' && typeof v['password'] === 'string') return { username: v['username'], password: v['password'] };
    return undefined;
  } catch {
    return undefined;
  }
}
