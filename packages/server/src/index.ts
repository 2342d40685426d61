/**
 * @multiget/server: a JSON-RPC service (LSP framing over stdio, Node IPC, or the private socket of the shared service) hosting a Multiget
 * download manager. The protocol itself is in `@multiget/server/protocol`, which front-ends import
 * without pulling in the engine.
 * @packageDocumentation
 * @module @multiget/server
 */
// First: refuses an unsupported Node.js before anything else loads.
import '@multiget/core/node-version';
export { runServer, type ServerOptions } from './runServer.js';
export { Service, type ServiceOptions } from './Service.js';
export { defaultPlugins, type PluginOptions } from './plugins.js';
export { resolveStateDir, resolveDownloadDir, type StateDirContext } from './paths.js';
export { toDownloadInfo, toHistoryInfo, toSettings } from './dto.js';
export { toResponseError, type InternalErrorLogger } from './responseError.js';
export {
  parseAddParams,
  parseAddManyParams,
  resolveUserPath,
  MAX_BATCH,
  type PathRules,
  type CheckedAdd,
} from './params.js';
export { listenForClients, socketPathFor, type SocketServer, type SocketServerOptions, type SocketPathContext } from './socketServer.js';
export { StrictMessageReader, FramingError, MAX_FRAME_BYTES } from './frameReader.js';
export * from './connect.js';
export { writeEndpoint, removeEndpoint, newToken } from './endpoint.js';
export { main, parseServerArgs, ServerExitCode, ArgsError, type ParsedArgs } from './main.js';
export { serverVersion } from './version.js';
export * from './protocol.js';
