import type { Logger } from 'pino';
import { DEFAULT_QUOTAS, type RunConfigView } from '@rlsa/client';
import { anchorFingerprint, defaultAnchorIds, type ImageDataset } from '@rlsa/data';
import type { AggregatorSession } from '../aggregator-session.ts';
import { TrainerError } from '../errors.ts';
import type { NodeUploadOptions } from '../node-options.ts';

/** The run a node joins: its config (anchors, similarity, what it accepts), the anchors as sample ids of this node's data set and their fingerprint on it. */
export interface ResolvedRun {
  readonly config: RunConfigView;
  /** The anchors' ids in the built-in data set (train indices), in the run's order: the relative width is their count. */
  readonly anchorIds: readonly number[];
  readonly fingerprint: string;
}

/** Without an aggregator: the data set's default anchors, cosine, nothing accepted (nothing is sent). */
function localRun(runId: string, dataset: ImageDataset): RunConfigView {
  const anchorIds = Array.from(defaultAnchorIds(dataset));
  const anchors = { kind: 'builtin' as const, dataset: dataset.name, sampleIds: anchorIds.map(BigInt), fingerprint: anchorFingerprint(dataset, anchorIds) };
  return { runId, anchors, similarity: 'cosine', acceptedEncodings: [], center: false, allowAbsolute: false, nodeRead: 'merged', quotas: { ...DEFAULT_QUOTAS } };
}

/**
 * The run's anchors as train indices of this node's data set: FAILED_PRECONDITION for a run whose
 * anchors are an uploaded anchor set (this node reads built-in data sets only) or whose ids are
 * not samples of the data set.
 */
function builtinAnchorIds(config: RunConfigView, dataset: ImageDataset): number[] {
  const { anchors, runId } = config;
  if (anchors.kind !== 'builtin') {
    throw new TrainerError('failed_precondition', `run ${runId} projects on an uploaded anchor set (${anchors.summary.kind}, ${anchors.summary.count} anchors): this node reads the built-in data sets only`);
  }
  return anchors.sampleIds.map((id) => {
    if (id >= BigInt(dataset.train.count)) {
      throw new TrainerError('failed_precondition', `anchor ${id} of run ${runId} (${anchors.dataset}) is not a training sample of this node's ${dataset.name} (${dataset.train.count})`);
    }
    return Number(id);
  });
}

/**
 * Phase 2, resolve the run, before any training: fetches the run's config from the aggregator (or
 * takes local defaults without one), and refuses a run whose anchors hash differently on this
 * node's copy of the data, which does not accept the node's encoding, or which refuses the absolute
 * uploads asked for. Issue 14's anchor sets served by the aggregator are fetched here.
 */
export async function resolveRun(session: AggregatorSession | undefined, runId: string, dataset: ImageDataset, upload: NodeUploadOptions, log: Logger): Promise<ResolvedRun> {
  if (session === undefined) log.warn('no --aggregator: training and embedding only, nothing is uploaded');
  const config = session !== undefined ? await session.runConfig(runId) : localRun(runId, dataset);
  const anchorIds = builtinAnchorIds(config, dataset);
  const fingerprint = anchorFingerprint(dataset, anchorIds);
  const expected = config.anchors.fingerprint;
  if (fingerprint !== expected) {
    throw new TrainerError(
      'failed_precondition',
      `the anchors of run ${runId}${config.anchors.kind === 'builtin' && config.anchors.dataset !== '' ? ` (samples of ${config.anchors.dataset})` : ''} hash to ${fingerprint.slice(0, 16)}… on this node's copy of ${dataset.name} (${dataset.source}), the run expects ${expected.slice(0, 16)}…: another data set, or another version or order of it`,
    );
  }
  if (config.acceptedEncodings.length > 0 && !config.acceptedEncodings.includes(upload.encoding)) {
    throw new TrainerError('failed_precondition', `run ${runId} accepts ${config.acceptedEncodings.join(', ')}, not ${upload.encoding}`);
  }
  if (upload.uploadAbsolute && session !== undefined && !config.allowAbsolute) {
    throw new TrainerError('failed_precondition', `run ${runId} does not accept absolute embeddings (--upload-absolute)`);
  }
  return { config, anchorIds, fingerprint };
}
