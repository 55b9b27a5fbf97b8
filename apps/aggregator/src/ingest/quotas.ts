import type { RunQuotasView, SpaceName } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import type { NodeEntry } from '../ledger/run-ledger.ts';
import type { ServerQuotas } from '../limits.ts';
import type { RunRecord } from '../runs/run-directory.ts';
import type { ChunkRow } from '../storage/schema.ts';

/** A run's bounds as enforced: its own quota fields, the server's where they are 0 (bytes: 0 = none). */
export interface EffectiveQuotas {
  /** Distinct samples of the run's merged space. */
  runSamples: number;
  /** Distinct samples of one node in one space. */
  nodeSamples: number;
  /** Payload bytes of the run (0: none). */
  runBytes: number;
  /** Payload bytes of one node (0: none). */
  nodeBytes: number;
}

/** The quotas a run is held to: its config's fields, else the server's (a node's samples default to the run's). */
export function effectiveQuotas(run: RunQuotasView, server: ServerQuotas): EffectiveQuotas {
  const runSamples = run.maxSamples || server.maxRunSamples;
  return {
    runSamples,
    nodeSamples: run.maxNodeSamples || server.maxNodeSamples || runSamples,
    runBytes: run.maxBytes || server.maxRunBytes,
    nodeBytes: run.maxNodeBytes || server.maxNodeBytes,
  };
}

/** Bytes a stored chunk counts against the byte quotas: its payload (ids, values, scales, labels, counted flags). */
export function storedBytes(row: Pick<ChunkRow, 'sampleIds' | 'data' | 'rowScales' | 'labels' | 'counted'>): number {
  return row.sampleIds.byteLength + row.data.byteLength + (row.rowScales?.byteLength ?? 0) + (row.labels?.byteLength ?? 0) + (row.counted?.byteLength ?? 0);
}

/** What an accepted chunk would add: samples new to its node's space, and payload bytes. */
export interface ChunkCost {
  seq: number;
  space: SpaceName;
  newSamples: number;
  bytes: number;
}

/**
 * RESOURCE_EXHAUSTED, before anything is reserved or stored, when the chunk would take its node's
 * space past the node's samples, or its node or run past their bytes (chunks being committed
 * count: they hold what they reserved).
 */
export function checkChunkQuotas(run: RunRecord, node: NodeEntry, cost: ChunkCost, quotas: EffectiveQuotas): void {
  const what = `chunk ${cost.seq} of node ${node.nodeId} in run ${run.ledger.config.runId}`;
  const samples = node.spaces[cost.space].samples + cost.newSamples;
  if (samples > quotas.nodeSamples) refuse(what, `${samples} distinct samples in the node's ${cost.space} space`, `max_node_samples = ${quotas.nodeSamples}`);
  if (quotas.nodeBytes > 0) {
    const bytes = nodeBytes(node) + cost.bytes;
    if (bytes > quotas.nodeBytes) refuse(what, `${bytes} stored bytes for the node`, `max_node_bytes = ${quotas.nodeBytes}`);
  }
  if (quotas.runBytes > 0) {
    const bytes = run.ledger.nodeList().reduce((sum, n) => sum + nodeBytes(n), 0) + cost.bytes;
    if (bytes > quotas.runBytes) refuse(what, `${bytes} stored bytes for the run`, `max_bytes = ${quotas.runBytes}`);
  }
}

/** RESOURCE_EXHAUSTED when `fresh` new merged samples would take the run's merged space past its samples quota. */
export function checkMergeQuota(run: RunRecord, seq: number, nodeId: string, fresh: number, quotas: EffectiveQuotas): void {
  if (fresh === 0) return;
  const samples = run.merged.sampleCount + run.merged.reservedSamples + fresh;
  if (samples > quotas.runSamples) {
    refuse(`chunk ${seq} of node ${nodeId} in run ${run.ledger.config.runId}`, `${samples} distinct samples in the merged space`, `max_samples = ${quotas.runSamples}`);
  }
}

function nodeBytes(node: NodeEntry): number {
  return node.spaces.relative.bytes + node.spaces.absolute.bytes;
}

function refuse(what: string, would: string, quota: string): never {
  throw new AggregatorError('resource_exhausted', `${what} would make ${would}, over the run's quota (${quota}); nothing of it was stored`);
}
