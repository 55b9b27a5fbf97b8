import { setFlagsFromString } from 'node:v8';

/**
 * Turns V8's allocation-site pretenuring off for this process (what `node
 * --no-allocation-site-pretenuring` does; V8 reads the flag at each GC, so setting it at start is
 * enough).
 *
 * Why: under a sustained upload, per-chunk objects (protobuf-es messages, the ingest's own records
 * of a chunk) live across a scavenge or two while their chunk is checked and committed, so V8 soon
 * allocates those sites' objects directly in the old generation. A dead old object still points at
 * the received message's views, so each received megabyte then outlives every scavenge and is freed
 * only by a full GC, which V8 starts every 64 MB of such external memory: measured with the
 * benchmark (820 MB uploaded), 60 to 100 full GCs on a 35 MB heap, 1.3 to 2.9 CPU-seconds of marking
 * on V8's helper threads and pauses of up to 150 ms on the event loop; without pretenuring, 0 to 4
 * full GCs and 0.35 CPU-s (the chunks die in the young generation, as raw grpc-js's messages do).
 */
export function stopPretenuring(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
