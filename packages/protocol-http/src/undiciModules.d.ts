// Types for the two undici modules this package imports by path (undici ships no declarations for
// its internal modules): each is a CommonJS module whose export is the class or function undici's
// index re-exports under the same name.
declare module 'undici/lib/dispatcher/agent.js' {
  const Agent: typeof import('undici').Agent;
  export default Agent;
}
declare module 'undici/lib/core/connect.js' {
  const buildConnector: typeof import('undici').buildConnector;
  export default buildConnector;
}
