import { create } from '@bufbuild/protobuf';
import { SpaceKind, UploadChunkSchema } from '@rlsa/proto';
import { DEFAULT_QUOTAS, encodeMatrix } from '@rlsa/wire';
import pino from 'pino';
import { openAggregatorCore } from '../../../src/aggregator-core.ts';
import type { AggregatorCore } from '../../../src/aggregator-core.ts';
import type { DeferredMergeOptions } from '../../../src/ingest/deferred-merge.ts';
import { Teardown } from '../../../src/teardown.ts';
import { FINGERPRINT, TEST_DATASET, idColumn, range, tempDir } from '../../helpers.ts';

export interface CoreWithData {
  core: AggregatorCore;
  /** The temp data dir (its segment files, for tests that damage them). */
  dataDir: string;
  /** Joins `nodeId` to run 'r' (created with `width` anchors on open). */
  join(nodeId: string, role: 'trainer' | 'reference'): void;
  /** Stores one relative chunk of `nodeId`: rows (ids × width, row-major) with labels id % 10. */
  upload(nodeId: string, seq: number, ids: readonly number[], values: Float32Array): Promise<void>;
  close(): Promise<void>;
}

/** The aggregator's core (SQLite in a temp dir, its threads) with run 'r', fed chunk by chunk without gRPC. */
export function coreWithData(width: number, merge?: Omit<DeferredMergeOptions, 'onError'>): CoreWithData {
  const temp = tempDir('rlsa-dashboard-core-');
  const teardown = new Teardown();
  const core = openAggregatorCore({ dataDir: temp.dir, durability: 'normal', runs: [], ...(merge ? { merge } : {}) }, pino({ level: 'silent' }), teardown);
  const anchors = { kind: 'builtin' as const, dataset: TEST_DATASET, sampleIds: range(0, width).map(BigInt), fingerprint: FINGERPRINT };
  core.runs.createRun({ runId: 'r', anchors, similarity: 'cosine', acceptedEncodings: [], center: false, allowAbsolute: false, nodeRead: 'merged', quotas: { ...DEFAULT_QUOTAS } });
  return {
    core,
    dataDir: temp.dir,
    join: (nodeId, role) => {
      core.runs.join('r', { nodeId, role, taskId: '', model: { architecture: 'mlp', embeddingWidth: 4 }, anchorFingerprint: FINGERPRINT, relativeWidth: width });
    },
    upload: async (nodeId, seq, ids, values) => {
      const chunk = create(UploadChunkSchema, {
        runId: 'r',
        nodeId,
        space: SpaceKind.RELATIVE,
        seq: BigInt(seq),
        sampleIds: idColumn(ids),
        values: encodeMatrix({ rows: ids.length, cols: width, data: values }),
        labels: ids.map((id) => id % 10),
      });
      await core.ingest.uploadChunk(chunk);
    },
    close: async () => {
      await teardown.run();
      temp.remove();
    },
  };
}
