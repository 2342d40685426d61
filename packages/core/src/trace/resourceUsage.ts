/** What this process uses, as reported with a manager's status. */
export interface ResourceUsage {
  /** CPU time in user mode since the process started, in milliseconds. */
  cpuUserMs: number;
  /** CPU time in the kernel on behalf of the process since it started, in milliseconds. */
  cpuSystemMs: number;
  /** Resident set size now, in bytes. */
  rssBytes: number;
  /** V8 heap in use now, in bytes. */
  heapUsedBytes: number;
  /** V8 heap allocated now, in bytes. */
  heapTotalBytes: number;
  /** Memory of buffers outside the V8 heap (ArrayBuffers included), in bytes. */
  externalBytes: number;
}

/**
 * This process's CPU time and memory now (`process.resourceUsage()` and `process.memoryUsage()`).
 * The library runs in its host's process, so the figures cover the host as well: in the service
 * and the CLI that is Multiget alone.
 */
export function resourceUsage(): ResourceUsage {
  const usage = process.resourceUsage();
  const memory = process.memoryUsage();
  return {
    cpuUserMs: Math.round(usage.userCPUTime / 1000),
    cpuSystemMs: Math.round(usage.systemCPUTime / 1000),
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
  };
}
