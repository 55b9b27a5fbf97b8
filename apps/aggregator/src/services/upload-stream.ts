import type { HandlerContext } from '@rlsa/proto';
import type { UploadAck, UploadChunk } from '@rlsa/proto';
import type { Logger } from 'pino';
import { requireWriter } from '../access/access-policy.ts';
import type { Principal } from '../auth.ts';
import { toAggregatorError } from '../grpc-status.ts';
import type { ChunkIngest, ChunkOutcome } from '../ingest/chunk-ingest.ts';
import type { AggregatorMetrics } from '../metrics.ts';
import type { RunDirectory } from '../runs/run-directory.ts';
import { EventLoopSlices } from './event-loop-slices.ts';
import { uploadAck } from './messages.ts';
import { pipelined } from './pipelined.ts';

/** Chunks of one upload stream checked and waiting for their commit (or their acknowledgement's flush) before the stream stops reading. */
export const MAX_STREAM_IN_FLIGHT = 16;

/** The event-loop slices every upload stream's chunk checks share (one event loop, one clock). */
const CHUNK_SLICES = new EventLoopSlices();

export interface UploadDeps {
  runs: RunDirectory;
  ingest: ChunkIngest;
  metrics: AggregatorMetrics;
  log: Logger;
}

/**
 * One Upload stream: chunks are checked on arrival, committed in order by the chunk writer, and
 * acknowledged in order, each after its commit; a refused chunk ends the stream with its status
 * after the acknowledgements of the chunks before it. The nodes writing on the stream count as
 * connected while it is open.
 */
export async function* uploadStream(requests: AsyncIterable<UploadChunk>, context: HandlerContext<Principal>, deps: UploadDeps): AsyncGenerator<UploadAck> {
  const connections = new StreamConnections(deps);
  const start = (chunk: UploadChunk): Promise<ChunkOutcome> => {
    // What the refusal log keeps of the chunk: not the message, whose payload views the received megabyte.
    const about = { runId: chunk.runId, nodeId: chunk.nodeId, seq: String(chunk.seq) };
    const refused = (error: unknown): never => {
      const e = toAggregatorError(error);
      deps.log.warn({ ...about, code: e.code, reason: e.message }, 'chunk refused');
      throw error;
    };
    try {
      requireWriter(context.principal, chunk.runId, chunk.nodeId);
      deps.runs.openRun(chunk.runId, 'uploads');
      const pending = deps.ingest.uploadChunk(chunk);
      connections.open(chunk.runId, chunk.nodeId);
      return pending.catch(refused);
    } catch (error: unknown) {
      return refused(error);
    }
  };
  try {
    for await (const outcome of pipelined(requests, start, MAX_STREAM_IN_FLIGHT, CHUNK_SLICES)) {
      countAcknowledged(deps, outcome);
      yield uploadAck(outcome);
    }
  } finally {
    connections.closeAll();
  }
}

function countAcknowledged({ metrics, runs }: UploadDeps, outcome: ChunkOutcome): void {
  metrics.chunks.inc({ space: outcome.space, duplicate: String(outcome.duplicate) });
  if (outcome.duplicate) return;
  metrics.rows.inc({ space: outcome.space }, outcome.rowsCounted);
  metrics.bytes.inc(outcome.payloadBytes);
  metrics.commitSeconds.observe(outcome.commitSeconds);
  metrics.mergedBytes.set(runs.mergedBytes());
}

/** The (run, node) pairs one stream wrote for: connected from their first accepted chunk until the stream ends. */
class StreamConnections {
  private readonly open_ = new Map<string, { runId: string; nodeId: string }>();

  constructor(private readonly deps: UploadDeps) {}

  open(runId: string, nodeId: string): void {
    const key = JSON.stringify([runId, nodeId]);
    if (this.open_.has(key)) return;
    this.open_.set(key, { runId, nodeId });
    this.deps.runs.connection(runId, nodeId, 1);
    this.deps.metrics.connectedNodes.set(this.deps.runs.connectedNodes());
  }

  closeAll(): void {
    for (const { runId, nodeId } of this.open_.values()) this.deps.runs.connection(runId, nodeId, -1);
    this.open_.clear();
    this.deps.metrics.connectedNodes.set(this.deps.runs.connectedNodes());
  }
}
