/**
 * V8 flags for a process whose work is downloads, exported as `@multiget/core/v8-tuning`: the
 * `multiget` command and the service (`multiget-server`, the VS Code extension's) set them with
 * `v8.setFlagsFromString` before their first download. This module imports nothing, so that loading
 * it costs no more than its own few lines.
 * @packageDocumentation
 * @module @multiget/core/v8-tuning
 */

/**
 * The V8 flags for a process whose work is downloads, for the Node.js of major version `nodeMajor`;
 * pass each to `v8.setFlagsFromString` before the first download. Why each:
 *
 * - `--external-memory-accounted-in-global-limit` (Node 24's V8 only, where it was measured: an
 *   unknown flag is reported on stderr): count memory outside V8's heap (socket and file buffers) in
 *   its heap limits. With the default, a transfer that keeps a few MiB of buffers in flight for longer
 *   than two young-generation collections sets off a full collection every ~25 ms (15 of them in a
 *   256 MiB SFTP download with 8 transfers, against 1 with the flag; 0.2 s of CPU).
 * - `--wasm-tier-up-filter=2147483647`: keep WebAssembly, that is undici's HTTP parser (llhttp), in
 *   V8's baseline compiler (Liftoff) for the whole run. It reads only status lines, headers and chunk
 *   sizes (a body is skipped in one step per read), yet once it had run long enough V8 recompiled its
 *   one large function with its optimising compiler in the background: 54 ms of CPU and 24 MB of that
 *   compiler's working memory (`--trace-wasm-compilation-times`), peak RSS 13-15 MiB higher at that
 *   moment, more than the faster parser ever gave back. A larger tiering budget only postponed it: the
 *   bench's `many` (1,000 responses) still reached it. `--liftoff-only` is ignored once V8 runs. V8
 *   tiers up only the function whose index this flag names, when it names one, and no module has a
 *   function at 2^31-1 (V8 allows a million per module): none tiers up, and Liftoff leaves out its
 *   budget checks.
 * - `--no-maglev-destroy-on-background`: free each Maglev compile job's memory on the main thread as
 *   it finishes rather than in a background task. A queue of small downloads makes hundreds of
 *   functions hot at about the same time (878 Maglev compiles in the bench's `many`, up to 40 in
 *   flight), and their jobs' memory waited for the background tasks: `many` peaked at 114-125 MiB
 *   RSS, with the flag at 102-104 (tmpfs, 6 runs each), the same time and CPU.
 * - `--heap-growing-percent=50`: grow the heap by half after a full collection, instead of V8's own
 *   factor, which let a queue of many small downloads (each leaves ~20 KiB of garbage behind) grow the
 *   heap from 12 to 37 MiB before the next full collection: `many` peaked at 140-144 MiB RSS, with
 *   the flag at 126-130, for 6 full collections instead of 2-4 (+6-9 ms). One download is unchanged.
 *
 * - `--no-turbofan` (Node 24's V8 only): no code goes to V8's top tier, TurboFan; Maglev, the tier
 *   below it, stays. A download's JavaScript runs per chunk and per request, not per byte, and the
 *   bench could not tell the two apart in time or CPU (0.88-1.06x either way, within the runs' own
 *   spread), while TurboFan's compiles (in background threads) and its code pages held memory.
 *   Highest peak RSS of 6 interleaved runs each, with the flag against without: `cuts-4m` 81 MiB
 *   against 91, `drops` 87 against 92, `unthrottled` (1 GiB) 82 against 87, `sftp` 91 against 94,
 *   `many` 101 against 105; the service's 1,020 files 113 against 126 (4 runs). RSS swings by 5-10
 *   MiB from run to run, so single 3-run sets went either way by a few MiB. Node 22's V8 leaves
 *   Maglev off, so there the flag would leave only the baseline compiler: it is not given.
 *
 * Every flag but the two for Node 24 exists in the V8 of Node 22 and 24.
 *
 * @param nodeMajor - The major version of the Node.js that will take the flags (default: this one's).
 */
export function downloadV8Flags(nodeMajor = Number(process.versions.node.split('.')[0])): string[] {
  const flags = ['--wasm-tier-up-filter=2147483647', '--no-maglev-destroy-on-background', '--heap-growing-percent=50'];
  if (nodeMajor === 24) flags.unshift('--external-memory-accounted-in-global-limit', '--no-turbofan');
  return flags;
}
