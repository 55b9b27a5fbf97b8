import type { Logger } from 'pino';
import type { StorageEvents } from '../aggregator-core.ts';
import type { AggregatorMetrics } from '../metrics.ts';
import { describeDamage } from '../storage/chunk-damage.ts';
import type { CheckpointEvent } from '../storage/chunk-writer.ts';
import type { AggregatorHealth } from './health.ts';

/**
 * What storage tells the operator, wired once: the health status (NOT_SERVING while chunks
 * cannot be stored), the metrics (storage full, refused chunks, damaged chunks and nodes,
 * checkpoint times) and the log.
 */
export function storageSignals(metrics: AggregatorMetrics, health: AggregatorHealth, log: Logger): StorageEvents {
  return {
    status(status, reason) {
      health.storageWritable(status === 'writable');
      metrics.storageFull.set(status === 'full' ? 1 : 0);
      metrics.storageFailed.set(status === 'failed' ? 1 : 0);
      if (status === 'full') log.error({ reason }, 'storage full: uploads get UNAVAILABLE and health is NOT_SERVING until a probe write succeeds');
      else if (status === 'failed') log.error({ reason }, 'storage failed: uploads get INTERNAL and health is NOT_SERVING until a restart');
      else log.info({ reason }, 'storage writable again: health is SERVING');
    },
    refused(chunks) {
      metrics.refusedChunks.inc(chunks);
    },
    damage(damage) {
      metrics.damagedChunks.inc();
      log.error({ runId: damage.runId, nodeId: damage.nodeId, space: damage.space, seq: damage.seq }, describeDamage(damage));
    },
    checkpoint(event: CheckpointEvent) {
      if (event.kind === 'checkpoint') {
        metrics.checkpointSeconds.observe((event.ms ?? 0) / 1000);
        log.debug(event, 'WAL checkpoint');
      } else log.warn({ reason: event.message }, 'WAL checkpoint failed (SQLite checkpoints by itself later)');
    },
  };
}
