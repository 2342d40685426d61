export { TraceRecorder, safeText, type TraceRecorderOptions } from './TraceRecorder.js';
export { checkTrace, RANGE_OUTCOMES, type TraceEvent, type TraceFile, type TracePhase } from './traceFormat.js';
export { segmentCells, connectionChar } from './segmentCells.js';
export { resourceUsage, type ResourceUsage } from './resourceUsage.js';
