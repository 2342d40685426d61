/**
 * The kit for testing protocol plugins, exported as `@multiget/core/testing` for plugin authors (the
 * built-in protocol packages use it too): the conformance battery every driver must pass
 * ({@link describeProtocolConformance}), and helpers to drive a driver outside the engine (build a
 * Job as the engine would, probe the way it does, ask for ranges with the probe's validators, read
 * sources).
 * @packageDocumentation
 * @module @multiget/core/testing
 */
// First: refuses an unsupported Node.js before anything else loads.
import './nodeVersion.js';
export { createJob, probeWith, rangeRequest, readSource, rejectionOf } from './testing/driver.js';
export {
  CONFORMANCE_SCENARIOS,
  describeProtocolConformance,
  type ConformanceContext,
  type ConformanceFaults,
  type ConformanceFile,
  type ConformanceOptions,
  type ConformanceRunner,
} from './testing/conformance.js';
export { RecordingLogger, type RecordedLine } from './log/RecordingLogger.js';
