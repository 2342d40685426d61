/**
 * @multiget/protocol-http: HTTP/1.1 and HTTPS downloads for Multiget, through undici.
 * @packageDocumentation
 * @module @multiget/protocol-http
 */
// First: refuses an unsupported Node.js before anything else loads.
import '@multiget/core/node-version';
export { HttpPlugin, type HttpPluginOptions } from './HttpPlugin.js';
export { HttpByteSource } from './HttpByteSource.js';
export { parseContentDisposition } from './contentDisposition.js';
export { parseContentRange, type ContentRange } from './contentRange.js';
export { parseDigestHeaders } from './digestHeaders.js';
export type { HeaderMap } from './headerValues.js';
