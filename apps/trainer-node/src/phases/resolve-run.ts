import type { Logger } from 'pino';
import type { RunConfigView } from '@rlsa/client';
import { anchorFingerprint, defaultAnchorIds, type ImageDataset } from '@rlsa/data';
import type { AggregatorSession } from '../aggregator-session.ts';
import { TrainerError } from '../errors.ts';
import type { NodeUploadOptions } from '../node-options.ts';

/** The run a node joins: its config (anchors, similarity, what it accepts) and the anchors' fingerprint on this node's data. */
export interface ResolvedRun {
  readonly config: RunConfigView;
  readonly fingerprint: string;
}

/** Without an aggregator: the data set's default anchors, cosine, nothing accepted (nothing is sent). */
function localRun(runId: string, dataset: ImageDataset): RunConfigView {
  const anchorIds = Array.from(defaultAnchorIds(dataset));
  return { runId, anchorIds, similarity: 'cosine', anchorFingerprint: anchorFingerprint(dataset, anchorIds), acceptedEncodings: [], center: false, allowAbsolute: false };
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
  const fingerprint = anchorFingerprint(dataset, config.anchorIds);
  if (fingerprint !== config.anchorFingerprint) {
    throw new TrainerError(
      'failed_precondition',
      `the anchors of run ${runId} hash to ${fingerprint.slice(0, 16)}… on this node's copy of ${dataset.name} (${dataset.source}), the run expects ${config.anchorFingerprint.slice(0, 16)}…: another version or order of the data set`,
    );
  }
  if (config.acceptedEncodings.length > 0 && !config.acceptedEncodings.includes(upload.encoding)) {
    throw new TrainerError('failed_precondition', `run ${runId} accepts ${config.acceptedEncodings.join(', ')}, not ${upload.encoding}`);
  }
  if (upload.uploadAbsolute && session !== undefined && !config.allowAbsolute) {
    throw new TrainerError('failed_precondition', `run ${runId} does not accept absolute embeddings (--upload-absolute)`);
  }
  return { config, fingerprint };
}
