import { roleName, spaceName } from '@rlsa/wire';
import type { Logger } from 'pino';
import { AggregatorError } from '../errors.ts';
import { mergeChunkRows } from '../ingest/chunk-ingest.ts';
import { decodeStored } from '../ingest/stored-chunks.ts';
import { int32FromBytes, uint32FromBytes } from '../storage/buffers.ts';
import { decodeModelCard, decodeRunConfig } from '../storage/records.ts';
import type { ChunkRow } from '../storage/schema.ts';
import type { Storage } from '../storage/storage.ts';
import type { RunDirectory } from './run-directory.ts';

/**
 * Loads runs and nodes from storage, then replays every stored chunk, in (run, node, space, seq)
 * order, into the ledgers and the merged spaces: the memory after a restart is what it was
 * before, for exactly the chunks that were acknowledged or committed.
 */
export function rebuildFromStorage(storage: Pick<Storage, 'listRuns' | 'listNodes' | 'allChunks'>, runs: RunDirectory, log: Logger): void {
  const started = Date.now();
  let runCount = 0;
  for (const row of storage.listRuns()) {
    const run = runs.restoreRun(decodeRunConfig(row.config), row.createdAtMs);
    runCount += 1;
    for (const node of storage.listNodes(row.runId)) {
      const role = roleName(node.role);
      if (role === 'unspecified') throw new AggregatorError('internal', `stored node ${row.runId}/${node.nodeId} has no role`);
      run.ledger.addNode({ nodeId: node.nodeId, role, taskId: node.taskId, model: decodeModelCard(node.model), finished: node.finished, joinedAtMs: node.joinedAtMs });
    }
  }
  let chunks = 0;
  for (const row of storage.allChunks()) {
    replayChunk(runs, row);
    chunks += 1;
  }
  if (runCount > 0) log.info({ runs: runCount, chunks, ms: Date.now() - started }, 'state rebuilt from storage');
}

function replayChunk(runs: RunDirectory, row: ChunkRow): void {
  const run = runs.find(row.runId);
  const node = run?.ledger.find(row.nodeId);
  const space = spaceName(row.space);
  if (run === undefined || node === undefined || space === undefined) {
    throw new AggregatorError('internal', `stored chunk of unknown run/node/space ${row.runId}/${row.nodeId}/${row.space}`);
  }
  const sampleIds = uint32FromBytes(row.sampleIds);
  node.spaces[space].replay(row.seq, sampleIds, row.counted);
  mergeChunkRows(run, node, space, { sampleIds, values: decodeStored(row), labels: row.labels === null ? [] : int32FromBytes(row.labels), counted: row.counted });
  run.updatedAtMs = Date.now();
}
