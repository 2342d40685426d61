import type { HookHost, Plugin } from '../engine/hooks.js';
import { equalSegments } from '../transfer/Scheduler.js';
import { connectionCeiling } from '../transfer/policy.js';

const PLUGIN_NAME = 'SegmentPlanner';

/**
 * The built-in planner: one segment per connection, but never segments smaller than the minimum
 * split size (so a small file uses one connection), and one open-ended segment when the size is
 * unknown or the server does not honour ranges.
 */
export class SegmentPlanner implements Plugin {
  readonly name = PLUGIN_NAME;

  apply(engine: HookHost): void {
    engine.hooks.plan.tap(PLUGIN_NAME, (segments, job) => {
      if (segments.length > 0) return segments;
      const size = job.remote?.size;
      if (size === undefined) return [{ id: 0, start: 0, end: Infinity, pos: 0 }];
      if (size === 0) return [];
      if (!job.remote?.ranges) return [{ id: 0, start: 0, end: size, pos: 0 }];
      // One segment per connection: the count is the run's connection ceiling.
      job.connections = connectionCeiling(job.options, size, 0, false);
      return equalSegments(size, job.connections);
    });
  }
}
