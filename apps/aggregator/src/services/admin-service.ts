import { create, equals } from '@bufbuild/protobuf';
import { AnchorSetSummarySchema, DeleteRunResponseSchema, ListRunsResponseSchema, UploadAnchorSetResponseSchema } from '@rlsa/proto';
import type {
  AdminService,
  CloseRunRequest,
  CreateRunRequest,
  DeleteRunRequest,
  DeleteRunResponse,
  GetRunRequest,
  HandlerContext,
  ListRunsResponse,
  RunStatus,
  ServiceImpl,
  UploadAnchorSetRequest,
  UploadAnchorSetResponse,
} from '@rlsa/proto';
import { anchorSetSummaryMessage, anchorSetSummaryView, runConfigView } from '@rlsa/wire';
import type { AnchorSetSummaryView } from '@rlsa/wire';
import { mayRead, requireAdmin, requireRead, requireSomeRead } from '../access/access-policy.ts';
import { audit } from '../access/audit-log.ts';
import type { Principal } from '../auth.ts';
import { AggregatorError } from '../errors.ts';
import { summarizeEncodedAnchorSet } from '../runs/anchor-set-summary.ts';
import { FINGERPRINT_PATTERN, checkAnchorSetSummary } from '../runs/run-config.ts';
import type { RunDirectory } from '../runs/run-directory.ts';
import type { RunLifecycle } from '../runs/run-lifecycle.ts';
import type { AnchorSetPiece, AnchorSetStore } from '../storage/anchor-sets.ts';
import type { Logger } from 'pino';
import { runStatusMessage } from './messages.ts';

/**
 * rlsa.v2.AdminService: creating, closing and deleting runs and storing anchor sets with an admin
 * token (each such action written to the audit log); GetRun and ListRuns also for readers, of the
 * runs they read.
 */
export class AdminRpc implements ServiceImpl<typeof AdminService, Principal> {
  constructor(private readonly deps: { runs: RunDirectory; anchorSets: AnchorSetStore; lifecycle: RunLifecycle; log: Logger }) {}

  async createRun(request: CreateRunRequest, context: HandlerContext<Principal>): Promise<RunStatus> {
    requireAdmin(context.principal, 'CreateRun');
    if (request.config === undefined) throw new AggregatorError('invalid_argument', 'CreateRun needs a config');
    const status = this.deps.runs.createRun(asView(() => runConfigView(request.config)));
    audit(this.deps.log, context.principal, 'CreateRun', { runId: status.config.runId, anchors: status.config.anchors.fingerprint });
    return runStatusMessage(status);
  }

  async getRun(request: GetRunRequest, context: HandlerContext<Principal>): Promise<RunStatus> {
    requireRead(context.principal, request.runId, 'get');
    return runStatusMessage(this.deps.runs.status(request.runId));
  }

  /** Every run for an admin; the runs it reads for a reader; PERMISSION_DENIED for a token that reads none. */
  async listRuns(_request: unknown, context: HandlerContext<Principal>): Promise<ListRunsResponse> {
    requireSomeRead(context.principal, 'ListRuns');
    const readable = this.deps.runs.listRuns().filter((run) => mayRead(context.principal, run.config.runId));
    return create(ListRunsResponseSchema, { runs: readable.map(runStatusMessage) });
  }

  async closeRun(request: CloseRunRequest, context: HandlerContext<Principal>): Promise<RunStatus> {
    requireAdmin(context.principal, 'CloseRun');
    return runStatusMessage(await this.deps.lifecycle.close(request.runId, context.principal));
  }

  async deleteRun(request: DeleteRunRequest, context: HandlerContext<Principal>): Promise<DeleteRunResponse> {
    requireAdmin(context.principal, 'DeleteRun');
    const { status, bytesFreed } = await this.deps.lifecycle.delete(request.runId, request.confirm, context.principal);
    return create(DeleteRunResponseSchema, { run: runStatusMessage(status), bytesFreed: BigInt(bytesFreed) });
  }

  /**
   * The first message names the set (fingerprint, summary); a set stored before is answered at
   * once (created: false) without reading the rest (INVALID_ARGUMENT when the summary differs from
   * the stored one); otherwise the pieces are stored and verified when complete: size and SHA-256
   * (`AnchorSetStore.store`), then decoded (@rlsa/sources' canonical encoding) to what the summary says.
   */
  async uploadAnchorSet(requests: AsyncIterable<UploadAnchorSetRequest>, context: HandlerContext<Principal>): Promise<UploadAnchorSetResponse> {
    requireAdmin(context.principal, 'UploadAnchorSet');
    const iterator = requests[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done === true) throw new AggregatorError('invalid_argument', 'UploadAnchorSet needs a first message with the fingerprint and the summary');
    const { fingerprint, summary } = anchorSetHeader(first.value);
    const answer = (created: boolean): UploadAnchorSetResponse =>
      create(UploadAnchorSetResponseSchema, { fingerprint, summary: anchorSetSummaryMessage(summary), created });
    const stored = this.deps.anchorSets.summary(fingerprint);
    if (stored !== undefined) {
      if (!equals(AnchorSetSummarySchema, anchorSetSummaryMessage(stored), anchorSetSummaryMessage(summary))) {
        throw new AggregatorError('invalid_argument', `anchor set ${fingerprint.slice(0, 16)}… is stored with another summary`);
      }
      return answer(false);
    }
    await this.deps.anchorSets.store(fingerprint, summary, anchorSetPieces(first.value, iterator), (encoding) => checkSummary(encoding, fingerprint, summary));
    audit(this.deps.log, context.principal, 'UploadAnchorSet', { fingerprint, count: summary.count, bytes: summary.size });
    return answer(true);
  }
}

/** A message's plain view; a value the view refuses (an unknown enum, no anchors) is INVALID_ARGUMENT. */
function asView<T>(view: () => T): T {
  try {
    return view();
  } catch (error: unknown) {
    throw AggregatorError.from(error, 'invalid_argument');
  }
}

function anchorSetHeader(first: UploadAnchorSetRequest): { fingerprint: string; summary: AnchorSetSummaryView } {
  const { fingerprint } = first;
  if (!FINGERPRINT_PATTERN.test(fingerprint)) {
    throw new AggregatorError('invalid_argument', `anchor set fingerprint ${JSON.stringify(fingerprint.slice(0, 80))} is not a lowercase hex SHA-256`);
  }
  if (first.summary === undefined) throw new AggregatorError('invalid_argument', 'the first UploadAnchorSet message needs the summary');
  const summary = asView(() => anchorSetSummaryView(first.summary as NonNullable<typeof first.summary>));
  checkAnchorSetSummary(summary);
  return { fingerprint, summary };
}

/** The set as uploaded holds what its summary says (decoded strictly): INVALID_ARGUMENT naming the first difference otherwise. */
function checkSummary(encoding: Uint8Array, fingerprint: string, announced: AnchorSetSummaryView): void {
  const actual = summarizeEncodedAnchorSet(encoding, `anchor set ${fingerprint.slice(0, 16)}…`);
  if (!equals(AnchorSetSummarySchema, anchorSetSummaryMessage(actual), anchorSetSummaryMessage(announced))) {
    throw new AggregatorError('invalid_argument', `anchor set ${fingerprint.slice(0, 16)}… holds ${JSON.stringify(actual)}, not the announced ${JSON.stringify(announced)}`);
  }
}

/** The pieces of an upload: the first message's, then each later message's (which may not name the set again). */
async function* anchorSetPieces(first: UploadAnchorSetRequest, rest: AsyncIterator<UploadAnchorSetRequest>): AsyncGenerator<AnchorSetPiece> {
  for (let request: UploadAnchorSetRequest | undefined = first; request !== undefined; ) {
    if (request.chunk !== undefined) yield { offset: Number(request.chunk.offset), data: request.chunk.data };
    const next = await rest.next();
    if (next.done === true) return;
    request = next.value;
    if (request.fingerprint !== '' || request.summary !== undefined) {
      throw new AggregatorError('invalid_argument', 'only the first UploadAnchorSet message names the set');
    }
  }
}
