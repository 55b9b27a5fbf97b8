import { setFlagsFromString } from 'node:v8';

/**
 * Sets V8's garbage collection for a process that ingests megabyte messages without end (what
 * `node --no-allocation-site-pretenuring --no-parallel-scavenge` does; V8 reads both flags at each
 * GC, so setting them at start is enough). Measured with the benchmark (820 MB uploaded from 4
 * streams, on a 2-core VM):
 *
 * - Allocation-site pretenuring off. Under a sustained upload, per-chunk objects (protobuf-es
 *   messages, the ingest's own records of a chunk) live across a scavenge or two while their chunk
 *   is checked and committed, so V8 soon allocates those sites' objects directly in the old
 *   generation. A dead old object still points at the received message's views, so each received
 *   megabyte then outlives every scavenge and is freed only by a full GC, which V8 starts every
 *   64 MB of such external memory: 60 to 100 full GCs on a 35 MB heap, 1.3 to 2.9 CPU-seconds of
 *   marking on V8's helper threads and pauses of up to 150 ms on the event loop; without
 *   pretenuring, 0 to 4 full GCs and 0.35 CPU-s (the chunks die young, as raw grpc-js's messages do).
 * - Scavenges on the calling thread alone. Every received message's buffer counts as external
 *   memory, so V8 scavenges every 10 to 20 ms of an upload, with little alive; split over V8's
 *   four helper threads, a scavenge costs more CPU in coordination than it saves in pause, and the
 *   helpers take cores the event loop and the writer want: V8's threads spent 0.41–0.44 CPU-s per
 *   upload with parallel scavenges, 0.25–0.32 without, the event loop no more.
 */
export function tuneGarbageCollection(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
  setFlagsFromString('--no-parallel-scavenge');
}
