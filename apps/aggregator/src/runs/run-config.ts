import { equals } from '@bufbuild/protobuf';
import { RunConfigSchema } from '@rlsa/proto';
import { ENCODING_NAMES, runConfigMessage } from '@rlsa/wire';
import type { AnchorSetSummaryView, AnchorsView, RunConfigView } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import { ID_PATTERN } from '../ledger/run-ledger.ts';

/** Anchors of a run, at most: the relative width. */
export const MAX_ANCHORS = 65_536;

/** An anchor set's fingerprint: the lowercase hex SHA-256 of its canonical encoding. */
export const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/;

/**
 * A run's configuration checked and in its one stored form (accepted encodings distinct and in
 * the wire's order), so that creating the same run again compares equal. INVALID_ARGUMENT for a
 * bad run id, anchors that are none, too many or repeated, or no fingerprint.
 */
export function normalizeRunConfig(input: RunConfigView): RunConfigView {
  if (!ID_PATTERN.test(input.runId)) throw new AggregatorError('invalid_argument', `run id ${JSON.stringify(input.runId)} must match ${ID_PATTERN.source}`);
  return {
    runId: input.runId,
    anchors: checkAnchors(input.anchors),
    similarity: input.similarity,
    acceptedEncodings: ENCODING_NAMES.filter((name) => input.acceptedEncodings.includes(name)),
    center: input.center,
    allowAbsolute: input.allowAbsolute,
    nodeRead: input.nodeRead,
    quotas: { ...input.quotas },
  };
}

/** Whether two normalized configurations are the same run. */
export function sameRunConfig(a: RunConfigView, b: RunConfigView): boolean {
  return equals(RunConfigSchema, runConfigMessage(a), runConfigMessage(b));
}

function checkAnchors(anchors: AnchorsView): AnchorsView {
  if (anchors.fingerprint === '') throw new AggregatorError('invalid_argument', 'a run needs an anchor fingerprint');
  if (anchors.kind === 'anchor-set') {
    if (!FINGERPRINT_PATTERN.test(anchors.fingerprint)) {
      throw new AggregatorError('invalid_argument', `anchor set fingerprint ${JSON.stringify(anchors.fingerprint.slice(0, 80))} is not a lowercase hex SHA-256`);
    }
    checkAnchorSetSummary(anchors.summary);
    return { kind: 'anchor-set', fingerprint: anchors.fingerprint, summary: { ...anchors.summary, shape: [...anchors.summary.shape] } };
  }
  // A data set name is optional (a run migrated from rlsa.v1 has none: the fingerprint identifies its anchors).
  if (anchors.dataset !== '' && !ID_PATTERN.test(anchors.dataset)) {
    throw new AggregatorError('invalid_argument', `data set name ${JSON.stringify(anchors.dataset.slice(0, 80))} must match ${ID_PATTERN.source}`);
  }
  const count = anchors.sampleIds.length;
  if (count === 0) throw new AggregatorError('invalid_argument', 'a run needs at least one anchor id');
  if (count > MAX_ANCHORS) throw new AggregatorError('invalid_argument', `a run has at most ${MAX_ANCHORS} anchors, got ${count}`);
  if (new Set(anchors.sampleIds).size !== count) throw new AggregatorError('invalid_argument', 'anchor ids must be distinct');
  return { kind: 'builtin', fingerprint: anchors.fingerprint, dataset: anchors.dataset, sampleIds: [...anchors.sampleIds] };
}

/**
 * Checks what an anchor set's summary claims: 1 to MAX_ANCHORS anchors, a size in bytes, and for
 * an array set a shape ([F] or [H, W, C], positive) and a dtype (none for the other kinds).
 */
export function checkAnchorSetSummary(summary: AnchorSetSummaryView): void {
  if (summary.count < 1 || summary.count > MAX_ANCHORS) throw new AggregatorError('invalid_argument', `an anchor set has 1 to ${MAX_ANCHORS} anchors, got ${summary.count}`);
  if (summary.size < 1) throw new AggregatorError('invalid_argument', 'an anchor set summary needs the size of its encoding');
  if (summary.kind === 'array') {
    if ((summary.shape.length !== 1 && summary.shape.length !== 3) || summary.shape.some((d) => d < 1)) {
      throw new AggregatorError('invalid_argument', `an array anchor set's shape is [F] or [H, W, C], got [${summary.shape.join(', ')}]`);
    }
    if (summary.dtype === undefined) throw new AggregatorError('invalid_argument', 'an array anchor set needs a dtype (uint8 or float32)');
  } else if (summary.shape.length > 0 || summary.dtype !== undefined) {
    throw new AggregatorError('invalid_argument', `a ${summary.kind} anchor set has no shape or dtype`);
  }
}
