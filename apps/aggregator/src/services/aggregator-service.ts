import type { AggregatorService, EvaluateRequest, EvaluateResponse, FinishUploadRequest, FinishUploadResponse, JoinRequest, JoinResponse } from '@rlsa/proto';
import type { FetchAnchorSetRequest, FetchAnchorSetResponse } from '@rlsa/proto';
import type { MergedChunk, NearestRequest, NearestResponse, ReadMergedRequest, ReadNodeSpaceRequest, RunStatus, UploadAck, UploadChunk, WatchRunRequest } from '@rlsa/proto';
import { create } from '@bufbuild/protobuf';
import { Encoding, FinishUploadResponseSchema } from '@rlsa/proto';
import type { HandlerContext, ServiceImpl } from '@rlsa/proto';
import { decodeMatrix, encodingName, modelCardView, roleName, spaceName } from '@rlsa/wire';
import type { EncodingName, NodeReadName, RunStatusView, SpaceName } from '@rlsa/wire';
import { requireAdmin, requireAnyRunRole, requireJoin, requireResults, requireWriter, watchScope } from '../access/access-policy.ts';
import type { StatusScope } from '../access/access-policy.ts';
import type { Principal } from '../auth.ts';
import { AggregatorError } from '../errors.ts';
import type { JoinAttempt } from '../ledger/run-ledger.ts';
import type { NearestQuery } from '../query/nearest.ts';
import type { RunReads } from '../query/run-reads.ts';
import type { MergedSelection } from '../query/row-batches.ts';
import type { AnchorSetStore } from '../storage/anchor-sets.ts';
import { evaluateResponse, fetchAnchorSetResponse, joinResponse, mergedChunk, nearestResponse, nodeStatusMessage, runStatusMessage } from './messages.ts';
import { uploadStream } from './upload-stream.ts';
import { DEFAULT_LIMITS } from '../limits.ts';
import { WATCH_INTERVAL_MS, pauseBetweenStatuses } from './watch-slots.ts';
import { WatchSlots } from './watch-slots.ts';
import type { UploadDeps } from './upload-stream.ts';

export interface AggregatorServiceDeps extends UploadDeps {
  reads: RunReads;
  anchorSets: AnchorSetStore;
  /** Open WatchRun calls, bounded (default: DEFAULT_LIMITS.maxWatchers). */
  watchers?: WatchSlots;
}

/**
 * rlsa.v2.AggregatorService: what trainer nodes and readers call. One typed handler per RPC
 * (the compiler checks each against the descriptor); the work is the runs', the ingest's and the
 * reads'; the messages are built here. Testable without a port: call a method with a context.
 */
export class AggregatorRpc implements ServiceImpl<typeof AggregatorService, Principal> {
  private readonly watchers: WatchSlots;

  constructor(private readonly deps: AggregatorServiceDeps) {
    this.watchers = deps.watchers ?? new WatchSlots(DEFAULT_LIMITS.maxWatchers);
  }

  async join(request: JoinRequest, context: HandlerContext<Principal>): Promise<JoinResponse> {
    requireJoin(context.principal, request.runId, request.nodeId, roleName(request.role));
    return joinResponse(this.deps.runs.join(request.runId, joinAttempt(request)));
  }

  upload(requests: AsyncIterable<UploadChunk>, context: HandlerContext<Principal>): AsyncIterable<UploadAck> {
    return uploadStream(requests, context, this.deps);
  }

  async finishUpload(request: FinishUploadRequest, context: HandlerContext<Principal>): Promise<FinishUploadResponse> {
    requireWriter(context.principal, request.runId, request.nodeId);
    return create(FinishUploadResponseSchema, { node: nodeStatusMessage(this.deps.runs.finish(request.runId, request.nodeId)) });
  }

  /**
   * Batches of bounded size (MAX_BATCH_BYTES), each made after the last was flushed: the event
   * loop's work and the memory per batch are bounded; the all-samples order is sorted on a read thread.
   */
  async *readMerged(request: ReadMergedRequest, context: HandlerContext<Principal>): AsyncGenerator<MergedChunk> {
    requireResults(context.principal, request.runId, this.nodeRead(request.runId), 'merged space');
    const encoding = outputEncoding(request.encoding);
    const selection = mergedSelection(request);
    const order = 'sampleIds' in selection ? undefined : await this.deps.reads.sortedIds(request.runId);
    for await (const batch of this.deps.reads.merged(request.runId, selection, request.maxRowsPerChunk, order)) yield mergedChunk(batch, encoding);
  }

  async *readNodeSpace(request: ReadNodeSpaceRequest, context: HandlerContext<Principal>): AsyncGenerator<MergedChunk> {
    requireAdmin(context.principal, 'ReadNodeSpace');
    const batches = this.deps.reads.nodeSpace(request.runId, request.nodeId, uploadedSpace(request.space), request.maxRowsPerChunk);
    for await (const batch of batches) yield mergedChunk(batch, 'float32');
  }

  async evaluate(request: EvaluateRequest, context: HandlerContext<Principal>): Promise<EvaluateResponse> {
    requireResults(context.principal, request.runId, this.nodeRead(request.runId), 'evaluation');
    return evaluateResponse(await this.deps.reads.evaluate(request.runId));
  }

  async nearest(request: NearestRequest, context: HandlerContext<Principal>): Promise<NearestResponse> {
    requireResults(context.principal, request.runId, this.nodeRead(request.runId), 'nearest neighbours');
    return nearestResponse(await this.deps.reads.nearest(request.runId, nearestQuery(request), request.k));
  }

  /**
   * The run's anchor set in pieces under the message limit (from `offset`, to resume);
   * FAILED_PRECONDITION for built-in anchors. Any role on the run (a node needs the anchors before
   * it joins).
   */
  async *fetchAnchorSet(request: FetchAnchorSetRequest, context: HandlerContext<Principal>): AsyncGenerator<FetchAnchorSetResponse> {
    requireAnyRunRole(context.principal, request.runId, 'fetch the anchor set');
    const { anchors } = this.deps.runs.run(request.runId).ledger.config;
    if (anchors.kind !== 'anchor-set') {
      throw new AggregatorError('failed_precondition', `run ${request.runId} projects on samples of the built-in data set ${anchors.dataset}: there is no anchor set to fetch`);
    }
    for await (const piece of this.deps.anchorSets.read(anchors.fingerprint, Number(request.offset), request.maxChunkBytes)) {
      yield fetchAnchorSetResponse(piece, anchors.summary.size);
    }
  }

  /**
   * The run's status now, then after changes: at most one status per WATCH_INTERVAL_MS (the
   * changes meanwhile, and while the last status was not flushed, are sent as one, the latest
   * state), so watchers cost the event loop little however fast the run changes; at most
   * `watchers.max` open (RESOURCE_EXHAUSTED). Ends when the aggregator drains, or after a last
   * status saying DELETED when the run is deleted. A node of the run sees only itself and the totals.
   */
  async *watchRun(request: WatchRunRequest, context: HandlerContext<Principal>): AsyncGenerator<RunStatus> {
    const { runs } = this.deps;
    const { runId } = request;
    const scope = watchScope(context.principal, runId);
    const seen = (status: RunStatusView): RunStatus => runStatusMessage(scoped(status, scope, context.principal.subject));
    const changes = runs.run(runId).changes;
    const release = this.watchers.take();
    const watch = changes.watch(context.signal);
    try {
      yield seen(runs.status(runId));
      for await (const _ of watch) {
        yield seen(runs.status(runId));
        await pauseBetweenStatuses(WATCH_INTERVAL_MS, context.signal);
      }
      if (runs.isDeleted(runId) && !context.signal.aborted) yield seen(runs.status(runId));
    } finally {
      watch.close();
      release();
    }
  }

  /** The run's node read policy, looked up when the access policy asks (only for the run's nodes). */
  private nodeRead(runId: string): () => NodeReadName {
    return () => this.deps.runs.run(runId).ledger.config.nodeRead;
  }
}

/** What a caller of `scope` sees of a run's status: all of it, or its own node and the totals. */
function scoped(status: RunStatusView, scope: StatusScope, subject: string): RunStatusView {
  return scope === 'all' ? status : { ...status, nodes: status.nodes.filter((node) => node.nodeId === subject) };
}

function joinAttempt(request: JoinRequest): JoinAttempt {
  return {
    nodeId: request.nodeId,
    role: roleName(request.role),
    taskId: request.taskId,
    model: request.model === undefined ? undefined : modelCardView(request.model),
    anchorFingerprint: request.anchorFingerprint,
    relativeWidth: request.relativeWidth,
  };
}

/** A read's encoding: unspecified is float32; an unknown value is INVALID_ARGUMENT. */
function outputEncoding(encoding: Encoding): EncodingName {
  if (encoding === Encoding.UNSPECIFIED) return 'float32';
  try {
    return encodingName(encoding);
  } catch (error: unknown) {
    throw AggregatorError.from(error, 'invalid_argument');
  }
}

function uploadedSpace(kind: number): SpaceName {
  const name = spaceName(kind);
  if (name === undefined) throw new AggregatorError('invalid_argument', 'space must be SPACE_KIND_RELATIVE or SPACE_KIND_ABSOLUTE');
  return name;
}

/** ReadMerged's rows: the ids asked for, or all samples after the cursor (both at once is INVALID_ARGUMENT). */
function mergedSelection(request: ReadMergedRequest): MergedSelection {
  if (request.sampleIds.length === 0) return request.afterSampleId === undefined ? {} : { after: request.afterSampleId };
  if (request.afterSampleId !== undefined) throw new AggregatorError('invalid_argument', 'after_sample_id resumes the all-samples order: give it without sample_ids');
  return { sampleIds: request.sampleIds };
}

function nearestQuery(request: NearestRequest): NearestQuery {
  if (request.query.case === 'sampleId') return { sampleId: request.query.value };
  if (request.query.case !== 'vector') throw new AggregatorError('invalid_argument', 'a Nearest query needs a sample_id or a vector');
  try {
    return { vector: decodeMatrix(request.query.value) };
  } catch (error: unknown) {
    throw AggregatorError.from(error, 'invalid_argument');
  }
}
