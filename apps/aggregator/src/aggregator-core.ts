import type { RunConfig } from '@rlsa/proto';
import { nativeLinalgStatus } from '@rlsa/linalg-native';
import { runConfigView } from '@rlsa/wire';
import type { Logger } from 'pino';
import { ChunkIngest } from './ingest/chunk-ingest.ts';
import { DeferredMerge } from './ingest/deferred-merge.ts';
import type { DeferredMergeOptions } from './ingest/deferred-merge.ts';
import { meanMerge } from './merge/merged-sums.ts';
import { SlabPrefaulter } from './merge/slab-prefaulter.ts';
import { RunReads } from './query/run-reads.ts';
import { rebuildFromStorage } from './runs/rebuild.ts';
import { RunDirectory } from './runs/run-directory.ts';
import { RunLifecycle } from './runs/run-lifecycle.ts';
import { AnchorSetStore } from './storage/anchor-sets.ts';
import type { ChunkDamage } from './storage/chunk-damage.ts';
import { ChunkWriter } from './storage/chunk-writer.ts';
import type { WriterEvents } from './storage/chunk-writer.ts';
import { DEFAULT_LIMITS } from './limits.ts';
import type { ServerQuotas } from './limits.ts';
import { ReadPool } from './query/read-pool.ts';
import type { ReadPoolLimits } from './query/read-pool.ts';
import type { Durability } from './storage/schema.ts';
import { Storage } from './storage/storage.ts';
import type { Teardown } from './teardown.ts';

/** The aggregator without its transport: the runs, the ingest, the reads and the anchor sets, over one data directory. */
export interface AggregatorCore {
  readonly runs: RunDirectory;
  readonly ingest: ChunkIngest;
  readonly reads: RunReads;
  readonly anchorSets: AnchorSetStore;
  /** Closing and deleting runs (with their stored data). */
  readonly lifecycle: RunLifecycle;
  /** The merge trailing the commits (its backlog is a metric). */
  readonly merge: DeferredMerge;
  /** Nodes with a damaged chunk now (a deleted run's no longer count). */
  damagedNodeCount(): number;
  /**
   * Deletes a run's stored data: the writer closes the run's segment (after the run's writes in
   * flight), then its rows and segment files go; resolves with the bytes of files removed. The
   * caller takes the run out of memory first (no new writes for it).
   */
  deleteStoredRun(runId: string): Promise<number>;
}

/** What storage tells the server: write status changes, chunks refused for lack of space, checkpoints, damaged chunks. */
export interface StorageEvents extends WriterEvents {
  damage?(damage: ChunkDamage): void;
}

/**
 * Opens the data dir (`aggregator.sqlite` and the segment files) with its writer and slab
 * prefaulter threads (each registered on `teardown`), rebuilds the runs from it and creates
 * `runs` (an identical existing run is kept).
 */
export function openAggregatorCore(
  options: {
    dataDir: string;
    durability: Durability;
    runs: readonly RunConfig[];
    storageEvents?: StorageEvents;
    quotas?: ServerQuotas;
    limits?: ReadPoolLimits;
    /** How far the merge may trail the commits (defaults: `DeferredMerge`'s). */
    merge?: Omit<DeferredMergeOptions, 'onError'>;
  },
  log: Logger,
  teardown: Teardown,
): AggregatorCore {
  const events = options.storageEvents ?? {};
  const storage = teardown.add(new Storage(options.dataDir, { durability: options.durability, ...(events.damage ? { onDamage: events.damage } : {}) }), (s) => s.close());
  logStorageOpened(storage, log);
  const writer = teardown.add(
    new ChunkWriter({ dataDir: options.dataDir, databasePath: storage.path, durability: options.durability }, events),
    (w) => w.stop(),
  );
  storage.onFull = (reason) => writer.noteFull(reason);
  // Fresh sums memory costs a page fault per 4 KB on first touch: a worker thread prepares it ahead
  // of need, in huge pages where the native addon can ask for them.
  const native = nativeLinalgStatus();
  const prefaulter = teardown.add(new SlabPrefaulter({ addonPath: native.available ? native.path : null }), (p) => p.stop());
  const anchorSets = new AnchorSetStore(options.dataDir);
  const runs = new RunDirectory(storage, meanMerge(prefaulter), log, anchorSets);
  rebuildFromStorage(storage, runs, log);
  for (const run of options.runs) createFromRunFile(runs, runConfigView(run), log);
  // Committed chunks are merged behind the ingest (read back from their segments), before any read of their run.
  const mergeLog = log.child({ component: 'merge' });
  const merge = teardown.add(
    new DeferredMerge((runId, nodeId, space, seq) => storage.getChunk(runId, nodeId, space, seq), storage.damage, {
      ...options.merge,
      onError: (error, chunk) => mergeLog.error({ err: error, ...chunk }, 'a committed chunk could not be read back for the merge: its node is marked damaged'),
    }),
    (m) => m.stop(),
  );
  const deleteStoredRun = async (runId: string): Promise<number> => {
    merge.forget(runId);
    await writer.closeRun(runId);
    return storage.deleteRun(runId);
  };
  const flushRun = async (runId: string): Promise<void> => {
    await writer.closeRun(runId);
    await merge.caughtUp(runs.run(runId));
  };
  const lifecycle = new RunLifecycle(runs, { flushRun, deleteStoredRun }, log.child({ component: 'lifecycle' }));
  const ingest = new ChunkIngest(runs, storage, writer, storage.damage, options.quotas, merge);
  // Heavy reads on threads of their own, over the same data dir and the shared merged sums.
  const pool = teardown.add(new ReadPool(options.limits ?? DEFAULT_LIMITS, storage.damage), (p) => p.close());
  const reads = new RunReads(runs, options.dataDir, pool, storage.damage, merge);
  return { runs, ingest, reads, anchorSets, lifecycle, merge, deleteStoredRun, damagedNodeCount: () => storage.damage.nodeCount };
}

/** A run file's run, created at start (kept when identical); a run deleted before is not created again (warned). */
function createFromRunFile(runs: RunDirectory, config: ReturnType<typeof runConfigView>, log: Logger): void {
  if (runs.isDeleted(config.runId)) {
    log.warn({ runId: config.runId }, 'a run file names a deleted run: not created again (a deleted run keeps its id)');
    return;
  }
  runs.createRun(config);
}

/** What opening the data dir changed (a migration, a tidy), for the operator. */
function logStorageOpened(storage: Storage, log: Logger): void {
  if (storage.migrated !== undefined) log.info(storage.migrated, 'data dir migrated to segment files');
  const { truncatedBytes, removedFiles, missingFiles } = storage.tidied;
  if (truncatedBytes > 0 || removedFiles.length > 0) log.info({ truncatedBytes, removedFiles }, 'segment files tidied: unreferenced bytes removed');
  if (missingFiles.length > 0) log.error({ missingFiles }, 'segment files missing: their chunks are damaged');
}
