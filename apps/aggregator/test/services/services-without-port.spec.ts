import { create } from '@bufbuild/protobuf';
import { Metadata } from '@grpc/grpc-js';
import { AdminService, CreateRunRequestSchema, FinishUploadRequestSchema, JoinRequestSchema, ModelCardSchema, NodeRole, WatchRunRequestSchema } from '@rlsa/proto';
import type { HandlerContext, RunStatus } from '@rlsa/proto';
import { runConfigMessage } from '@rlsa/wire';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { openAggregatorCore } from '../../src/aggregator-core.ts';
import type { Principal } from '../../src/auth.ts';
import { AggregatorMetrics } from '../../src/metrics.ts';
import { AdminRpc } from '../../src/services/admin-service.ts';
import { AggregatorRpc } from '../../src/services/aggregator-service.ts';
import { Teardown } from '../../src/teardown.ts';
import { FINGERPRINT, builtinAnchors, range, tempDir } from '../helpers.ts';

const log = pino({ level: 'silent' });

function context(principal: Principal, signal = new AbortController().signal): HandlerContext<Principal> {
  return { method: AdminService.method.createRun, principal, metadata: new Metadata(), signal };
}

describe('the services called as objects, without a port', () => {
  const teardown = new Teardown();
  const temp = tempDir();
  afterEach(async () => {
    await teardown.run();
    temp.remove();
  });

  it('creates a run, joins a node, watches the run and finishes the node: typed messages in and out, principals enforced', async () => {
    const core = openAggregatorCore({ dataDir: temp.dir, durability: 'normal', runs: [] }, log, teardown);
    const admin = new AdminRpc({ ...core, log });
    const aggregator = new AggregatorRpc({ ...core, metrics: new AggregatorMetrics(), log });
    const operator: Principal = { subject: 'ops', grants: [{ kind: 'admin' }], anonymous: false };
    const node: Principal = { subject: 'n1', grants: [{ kind: 'run', role: 'node', runId: '*' }], anonymous: false };

    const config = runConfigMessage({ runId: 'r', anchors: builtinAnchors(range(0, 4), FINGERPRINT) });
    await expect(admin.createRun(create(CreateRunRequestSchema, { config }), context(node))).rejects.toMatchObject({ code: 'permission_denied' });
    const created = await admin.createRun(create(CreateRunRequestSchema, { config }), context(operator));
    expect(created.config?.anchors?.source).toMatchObject({ case: 'builtin', value: { sampleIds: [0n, 1n, 2n, 3n] } });

    const watching = new AbortController();
    const watch = aggregator.watchRun(create(WatchRunRequestSchema, { runId: 'r' }), context(node, watching.signal))[Symbol.asyncIterator]();
    const nextStatus = async (): Promise<RunStatus> => {
      const next = await watch.next();
      if (next.done === true) throw new Error('the watch ended');
      return next.value;
    };
    expect((await nextStatus()).nodes).toEqual([]);

    const join = create(JoinRequestSchema, {
      runId: 'r',
      nodeId: 'n1',
      role: NodeRole.TRAINER,
      taskId: 't',
      model: create(ModelCardSchema, { architecture: 'mlp', embeddingWidth: 8 }),
      anchorFingerprint: FINGERPRINT,
      relativeWidth: 4,
    });
    await expect(aggregator.join({ ...join, nodeId: 'n2' }, context(node))).rejects.toMatchObject({ code: 'permission_denied' });
    const joined = await aggregator.join(join, context(node));
    expect({ last: joined.lastRelativeSeq, runId: joined.config?.runId }).toEqual({ last: -1n, runId: 'r' });
    expect((await nextStatus()).nodes.map((n) => n.nodeId)).toEqual(['n1']);

    const finished = await aggregator.finishUpload(create(FinishUploadRequestSchema, { runId: 'r', nodeId: 'n1' }), context(node));
    expect(finished.node?.finished).toBe(true);
    expect((await nextStatus()).nodes[0]?.finished).toBe(true);
    // The watch ends when its call's signal aborts (the client left, or the aggregator drains).
    const ending = watch.next();
    watching.abort();
    expect((await ending).done).toBe(true);
  });
});
