import { createRequire } from 'node:module';

/**
 * Node's `util`, taken through `require`. An ESM import of `node:util` (even of one name) builds the
 * module's whole namespace, whose lazy getters load parts the CLI never uses (assert's diff, MIME
 * types, trace_sigint): 30 to 45 ms of every command's start-up on the bench machine.
 */
export const nodeUtil = createRequire(import.meta.url)('node:util') as typeof import('node:util');
