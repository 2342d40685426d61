/**
 * @multiget/core: the engine, its hooks, the built-in plugins and the public types.
 * @packageDocumentation
 */
export * from './errors.js';
export * from './types.js';
export * from './hooks.js';
export type { ByteSink } from './sink.js';
export { Job, type JobOptions } from './Job.js';
export { ProtocolPlugin } from './ProtocolPlugin.js';
