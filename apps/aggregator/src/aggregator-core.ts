import type { RunConfig } from '@rlsa/proto';
import { nativeLinalgStatus } from '@rlsa/linalg-native';
import { runConfigView } from '@rlsa/wire';
import type { Logger } from 'pino';
import { ChunkIngest } from './ingest/chunk-ingest.ts';
import { meanMerge } from './merge/merged-sums.ts';
import { SlabPrefaulter } from './merge/slab-prefaulter.ts';
import { RunReads } from './query/run-reads.ts';
import { rebuildFromStorage } from './runs/rebuild.ts';
import { RunDirectory } from './runs/run-directory.ts';
import { AnchorSetStore } from './storage/anchor-sets.ts';
import { CheckpointWorker } from './storage/checkpoint-worker.ts';
import type { CheckpointEvent } from './storage/checkpoint-worker.ts';
import { ChunkWriter } from './storage/chunk-writer.ts';
import type { Durability } from './storage/schema.ts';
import { Storage } from './storage/storage.ts';
import type { Teardown } from './teardown.ts';

/** The aggregator without its transport: the runs, the ingest, the reads and the anchor sets, over one data directory. */
export interface AggregatorCore {
  readonly runs: RunDirectory;
  readonly ingest: ChunkIngest;
  readonly reads: RunReads;
  readonly anchorSets: AnchorSetStore;
}

/**
 * Opens `<dataDir>/aggregator.sqlite` with its writer, checkpointer and slab prefaulter threads
 * (each registered on `teardown`), rebuilds the runs from it and creates `runs` (an identical
 * existing run is kept).
 */
export function openAggregatorCore(
  options: { dataDir: string; durability: Durability; runs: readonly RunConfig[]; onCheckpoint: (event: CheckpointEvent) => void },
  log: Logger,
  teardown: Teardown,
): AggregatorCore {
  const storage = teardown.add(new Storage(options.dataDir, { durability: options.durability }), (s) => s.close());
  const writer = teardown.add(new ChunkWriter(storage.path, options.durability), (w) => w.stop());
  // Fresh sums memory costs a page fault per 4 KB on first touch: a worker thread prepares it ahead
  // of need, in huge pages where the native addon can ask for them.
  const native = nativeLinalgStatus();
  const prefaulter = teardown.add(new SlabPrefaulter({ addonPath: native.available ? native.path : null }), (p) => p.stop());
  const anchorSets = new AnchorSetStore(options.dataDir);
  const runs = new RunDirectory(storage, meanMerge(prefaulter), log, anchorSets);
  rebuildFromStorage(storage, runs, log);
  for (const run of options.runs) runs.createRun(runConfigView(run));
  teardown.add(new CheckpointWorker(storage.path, options.onCheckpoint), (c) => c.stop());
  return { runs, ingest: new ChunkIngest(runs, storage, writer), reads: new RunReads(runs, storage), anchorSets };
}
