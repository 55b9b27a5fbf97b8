import { create } from '@bufbuild/protobuf';
import { ListRunsResponseSchema } from '@rlsa/proto';
import type { AdminService, CreateRunRequest, GetRunRequest, HandlerContext, ListRunsResponse, RunStatus, ServiceImpl } from '@rlsa/proto';
import { runConfigView } from '@rlsa/wire';
import { requireAdmin } from '../auth.ts';
import type { Principal } from '../auth.ts';
import { AggregatorError } from '../errors.ts';
import type { RunDirectory } from '../runs/run-directory.ts';
import { runStatusMessage } from './messages.ts';

/** rlsa.v1.AdminService: creating and inspecting runs, with an admin token. */
export class AdminRpc implements ServiceImpl<typeof AdminService, Principal> {
  constructor(private readonly runs: RunDirectory) {}

  async createRun(request: CreateRunRequest, context: HandlerContext<Principal>): Promise<RunStatus> {
    requireAdmin(context.principal, 'CreateRun');
    if (request.config === undefined) throw new AggregatorError('invalid_argument', 'CreateRun needs a config');
    return runStatusMessage(this.runs.createRun(runConfigView(request.config)));
  }

  async getRun(request: GetRunRequest, context: HandlerContext<Principal>): Promise<RunStatus> {
    requireAdmin(context.principal, 'GetRun');
    return runStatusMessage(this.runs.status(request.runId));
  }

  async listRuns(_request: unknown, context: HandlerContext<Principal>): Promise<ListRunsResponse> {
    requireAdmin(context.principal, 'ListRuns');
    return create(ListRunsResponseSchema, { runs: this.runs.listRuns().map(runStatusMessage) });
  }
}
