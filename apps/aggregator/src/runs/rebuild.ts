import { RunState } from '@rlsa/proto';
import { roleName, sampleIdsFromBytes, spaceName } from '@rlsa/wire';
import type { SpaceName } from '@rlsa/wire';
import type { Logger } from 'pino';
import { AggregatorError } from '../errors.ts';
import { mergeChunkRows } from '../ingest/chunk-merge.ts';
import { storedBytes } from '../ingest/quotas.ts';
import { decodeStored } from '../ingest/stored-chunks.ts';
import type { NodeEntry } from '../ledger/run-ledger.ts';
import { int32FromBytes } from '../storage/buffers.ts';
import { ChunkDamageError } from '../storage/chunk-damage.ts';
import { decodeModelCard, decodeRunConfig } from '../storage/records.ts';
import type { ChunkRow, RunRow, RunStateRow } from '../storage/schema.ts';
import type { Storage } from '../storage/storage.ts';
import type { RunDirectory, RunRecord } from './run-directory.ts';

/** What the rebuild reads of storage. */
export type RebuildSource = Pick<Storage, 'listRuns' | 'listNodes' | 'nodeChunkIndex' | 'readChunk' | 'damage' | 'listRunStates' | 'deleteRun'>;

/** What a rebuild found. */
export interface RebuildSummary {
  runs: number;
  /** Runs whose deletion had been cut short (stored as deleted, data still there): finished now. */
  deletionsFinished: number;
  chunks: number;
  /** Nodes with a damaged chunk: counted, their rows left out of the merge. */
  damagedNodes: number;
}

/**
 * Loads runs and nodes from storage, then replays every stored chunk, node by node in node-id
 * order and in (space, seq) order within a node, into the ledgers and the merged spaces: the
 * memory after a restart is what it was before, for exactly the chunks that were acknowledged
 * or committed, each read back once and checked.
 *
 * It never fails on stored data: a damaged chunk marks its node (`storage.damage`), and the run
 * is replayed again with that node counted from its index only, its rows left out of the merge
 * (a damaged node's rows are all out, not the ones read before the damage; a run is replayed at
 * most once more per damaged node, and only when damage is found).
 */
export function rebuildFromStorage(storage: RebuildSource, runs: RunDirectory, log: Logger): RebuildSummary {
  const started = Date.now();
  const summary: RebuildSummary = { runs: 0, deletionsFinished: 0, chunks: 0, damagedNodes: 0 };
  const states = new Map(storage.listRunStates().map((state) => [state.runId, state]));
  for (const row of storage.listRuns()) {
    if (states.get(row.runId)?.state === RunState.DELETED) {
      const bytesFreed = storage.deleteRun(row.runId);
      log.info({ runId: row.runId, bytesFreed }, 'deletion of a run finished (it was cut short)');
      summary.deletionsFinished += 1;
      continue;
    }
    summary.runs += 1;
    for (;;) {
      const run = restoreRun(storage, runs, row);
      const replayed = replayRun(storage, run);
      if (replayed === 'damage found') continue;
      summary.chunks += replayed.chunks;
      summary.damagedNodes += replayed.damagedNodes;
      break;
    }
  }
  for (const state of states.values()) restoreState(runs, state);
  if (summary.runs > 0) log.info({ ...summary, ms: Date.now() - started }, 'state rebuilt from storage');
  if (summary.damagedNodes > 0) log.error({ damagedNodes: summary.damagedNodes }, 'nodes with a damaged chunk: their rows are left out of the merge, their reads and uploads answer DATA_LOSS');
  return summary;
}

/** A run's lifecycle state as stored: closed (the run is in memory), deleted (only its status remains). */
function restoreState(runs: RunDirectory, state: RunStateRow): void {
  if (state.state === RunState.DELETED) {
    runs.restoreDeleted(decodeRunConfig(state.config), state.changedAtMs);
    return;
  }
  const run = runs.find(state.runId);
  if (run !== undefined && state.state === RunState.CLOSED) run.state = 'closed';
}

/** The run and its nodes in memory, with nothing replayed (again, when a replay found damage). */
function restoreRun(storage: RebuildSource, runs: RunDirectory, row: RunRow): RunRecord {
  const run = runs.restoreRun(decodeRunConfig(row.config), row.createdAtMs);
  for (const node of storage.listNodes(row.runId)) {
    const role = roleName(node.role);
    if (role === 'unspecified') throw new AggregatorError('internal', `stored node ${row.runId}/${node.nodeId} has no role`);
    run.ledger.addNode({ nodeId: node.nodeId, role, taskId: node.taskId, model: decodeModelCard(node.model), finished: node.finished, joinedAtMs: node.joinedAtMs });
  }
  return run;
}

/** Replays a run's chunks; stops at the first damage found in a node not yet known as damaged. */
function replayRun(storage: RebuildSource, run: RunRecord): { chunks: number; damagedNodes: number } | 'damage found' {
  const runId = run.ledger.config.runId;
  const nodes = run.ledger.nodeList().sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  let chunks = 0;
  let damagedNodes = 0;
  for (const node of nodes) {
    const damaged = storage.damage.find(runId, node.nodeId) !== undefined;
    if (damaged) damagedNodes += 1;
    for (const index of storage.nodeChunkIndex(runId, node.nodeId)) {
      const space = spaceOf(index);
      if (damaged) {
        node.spaces[space].replayUnread(index.seq, index.countedRows, index.length);
      } else {
        // A damaged chunk is marked (and logged, counted) by storage; the run is replayed without the node.
        const outcome = storage.readChunk(index);
        if ('damage' in outcome || !replayed(storage, () => replayChunk(run, node, outcome.row))) return 'damage found';
      }
      chunks += 1;
    }
  }
  return { chunks, damagedNodes };
}

/** Runs a chunk's replay; false when its stored values turn out damaged (marked like a checksum failure). */
function replayed(storage: RebuildSource, replay: () => void): boolean {
  try {
    replay();
    return true;
  } catch (error: unknown) {
    if (!(error instanceof ChunkDamageError)) throw error;
    storage.damage.mark(error.damage);
    return false;
  }
}

function spaceOf(chunk: Pick<ChunkRow, 'runId' | 'nodeId' | 'space' | 'seq'>): SpaceName {
  const space = spaceName(chunk.space);
  if (space === undefined) throw new AggregatorError('internal', `stored chunk ${chunk.runId}/${chunk.nodeId}/${chunk.seq} has space ${chunk.space}`);
  return space;
}

function replayChunk(run: RunRecord, node: NodeEntry, row: ChunkRow): void {
  const space = spaceOf(row);
  const sampleIds = sampleIdsFromBytes(row.sampleIds);
  const values = decodeStored(row);
  node.spaces[space].replay(row.seq, sampleIds, row.counted, storedBytes(row));
  mergeChunkRows(run, node, space, { sampleIds, values, labels: row.labels === null ? [] : int32FromBytes(row.labels), counted: row.counted });
  run.updatedAtMs = Date.now();
}
