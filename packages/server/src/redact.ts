/**
 * The one redaction rule for URLs (core's `redactUrl`), for clients that show or copy a URL the
 * service sent (the VS Code extension) without depending on core themselves.
 * @module @multiget/server/redact
 */
export { redactUrl } from '@multiget/core/redact';
