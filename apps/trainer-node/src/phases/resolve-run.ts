import type { Logger } from 'pino';
import { DEFAULT_QUOTAS, type RunConfigView } from '@rlsa/client';
import { anchorFingerprint, defaultAnchorIds, type ImageDataset } from '@rlsa/data';
import type { AggregatorSession } from '../aggregator-session.ts';
import { TrainerError } from '../errors.ts';
import type { NodeDataOptions, NodeUploadOptions } from '../node-options.ts';
import type { NodeData } from './load-data.ts';
import { resolvePartyAnchors, type PartyAnchors } from './run-anchors.ts';

/**
 * The run a node joins: its config (anchors, similarity, what it accepts), the fingerprint it
 * checked, the relative width, and the anchors in the form the node's data needs: ids into its
 * built-in data set, or (a party's data) the set itself.
 */
export interface ResolvedRun {
  readonly config: RunConfigView;
  readonly fingerprint: string;
  /** The anchor count: the relative width. */
  readonly width: number;
  /** Built-in data: the anchors' ids in the data set (train indices), in the run's order; empty otherwise. */
  readonly anchorIds: readonly number[];
  /** A party's data: the run's anchor set as the node holds it. */
  readonly partyAnchors?: PartyAnchors;
}

/** Where a node's run settings come from besides the aggregator. */
export interface ResolveRunOptions {
  readonly upload: NodeUploadOptions;
  readonly data: NodeDataOptions;
  /** A local copy of the anchor set (`--anchors`). */
  readonly anchorsPath?: string | undefined;
  /** Whether the node's model needs the anchors' inputs (not for an embeddings folder). */
  readonly needsAnchorInputs: boolean;
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

/** Refuses a run which does not accept the node's encoding, or which refuses the absolute uploads asked for. */
function checkAccepts(config: RunConfigView, upload: NodeUploadOptions, connected: boolean): void {
  const { runId } = config;
  if (config.acceptedEncodings.length > 0 && !config.acceptedEncodings.includes(upload.encoding)) {
    throw new TrainerError('failed_precondition', `run ${runId} accepts ${config.acceptedEncodings.join(', ')}, not ${upload.encoding}`);
  }
  if (upload.uploadAbsolute && connected && !config.allowAbsolute) {
    throw new TrainerError('failed_precondition', `run ${runId} does not accept absolute embeddings (--upload-absolute)`);
  }
}

/** A built-in data set's node: the run's anchors must hash on this node's copy of the data as the run says. */
function builtinRun(config: RunConfigView, dataset: ImageDataset): ResolvedRun {
  const { runId } = config;
  const anchorIds = builtinAnchorIds(config, dataset);
  const fingerprint = anchorFingerprint(dataset, anchorIds);
  const expected = config.anchors.fingerprint;
  if (fingerprint !== expected) {
    throw new TrainerError(
      'failed_precondition',
      `the anchors of run ${runId}${config.anchors.kind === 'builtin' && config.anchors.dataset !== '' ? ` (samples of ${config.anchors.dataset})` : ''} hash to ${fingerprint.slice(0, 16)}… on this node's copy of ${dataset.name} (${dataset.source}), the run expects ${expected.slice(0, 16)}…: another data set, or another version or order of it`,
    );
  }
  return { config, anchorIds, fingerprint, width: anchorIds.length };
}

/** Without an aggregator, a party's node takes its local anchor copy as the run's (cosine, nothing accepted: nothing is sent). */
function localPartyConfig(runId: string, anchors: PartyAnchors): RunConfigView {
  const summary = { size: 0, count: anchors.count, kind: anchors.set?.kind ?? 'images', shape: [], hasLabels: false, hasNames: false };
  return { runId, anchors: { kind: 'anchor-set', fingerprint: anchors.fingerprint, summary }, similarity: 'cosine', acceptedEncodings: [], center: false, allowAbsolute: false, nodeRead: 'merged', quotas: { ...DEFAULT_QUOTAS } };
}

/**
 * Phase 2, resolve the run, before any training: fetches the run's config from the aggregator (or
 * takes local defaults without one) and the anchors in the form the node's data needs (ids of its
 * built-in data set, checked by hashing them on this node's copy; or, for a party's own data, the
 * run's anchor set: a local copy checked against the fingerprint, or fetched). Refuses a run whose
 * anchors differ, which does not accept the node's encoding, or which refuses the absolute uploads
 * asked for.
 */
export async function resolveRun(session: AggregatorSession | undefined, runId: string, data: NodeData, options: ResolveRunOptions, log: Logger): Promise<ResolvedRun> {
  if (session === undefined) log.warn('no --aggregator: training and embedding only, nothing is uploaded');
  const remote = session !== undefined ? await session.runConfig(runId) : undefined;
  let run: ResolvedRun;
  if (data.kind === 'builtin') {
    run = builtinRun(remote ?? localRun(runId, data.dataset), data.dataset);
  } else {
    const anchors = await resolvePartyAnchors(session, remote, options.anchorsPath, options.needsAnchorInputs, options.data, log);
    run = { config: remote ?? localPartyConfig(runId, anchors), fingerprint: anchors.fingerprint, width: anchors.count, anchorIds: [], partyAnchors: anchors };
  }
  checkAccepts(run.config, options.upload, session !== undefined);
  return run;
}
