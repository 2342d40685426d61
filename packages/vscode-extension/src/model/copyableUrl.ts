// Extension host only: the webview's bundle needs none of it.
import { redactUrl } from '@multiget/server/redact';

/**
 * The URL to put on the clipboard: redacted by the one rule every package uses (no user name,
 * password or fragment, no signature or token values). The service already lists URLs so; this
 * keeps the clipboard clean whatever an older service sent.
 */
export function copyableUrl(url: string): string {
  return redactUrl(url);
}
