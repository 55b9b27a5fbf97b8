import { ENCODING_NAMES } from '@rlsa/wire';
import type { RunConfigView } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';
import { ID_PATTERN } from '../ledger/run-ledger.ts';

/**
 * A run's configuration checked and in its one stored form (accepted encodings distinct and in
 * the wire's order), so that creating the same run again compares equal. INVALID_ARGUMENT for a
 * bad run id, no or repeated anchors, or no fingerprint.
 */
export function normalizeRunConfig(input: RunConfigView): RunConfigView {
  if (!ID_PATTERN.test(input.runId)) throw new AggregatorError('invalid_argument', `run id ${JSON.stringify(input.runId)} must match ${ID_PATTERN.source}`);
  if (input.anchorIds.length === 0) throw new AggregatorError('invalid_argument', 'a run needs at least one anchor id');
  if (new Set(input.anchorIds).size !== input.anchorIds.length) throw new AggregatorError('invalid_argument', 'anchor ids must be distinct');
  if (input.anchorFingerprint === '') throw new AggregatorError('invalid_argument', 'a run needs an anchor fingerprint');
  return {
    runId: input.runId,
    anchorIds: [...input.anchorIds],
    similarity: input.similarity,
    anchorFingerprint: input.anchorFingerprint,
    acceptedEncodings: ENCODING_NAMES.filter((name) => input.acceptedEncodings.includes(name)),
    center: input.center,
    allowAbsolute: input.allowAbsolute,
  };
}

/** Whether two normalized configurations are the same run. */
export function sameRunConfig(a: RunConfigView, b: RunConfigView): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
