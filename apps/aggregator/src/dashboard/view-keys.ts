import { createHash } from 'node:crypto';
import type { RunStatusView } from '@rlsa/wire';

/** Fewest merged samples a PCA is drawn from (two components need three points). */
export const MIN_PCA_SAMPLES = 3;

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

/**
 * The version of the data the CKA table is computed from: every node's relative rows (the
 * reference's and each trainer's, which also make the merged space), and whether the reference
 * finished (the table says so). Null while Evaluate cannot answer (no reference, or no reference
 * row yet).
 */
export function evaluationKey(status: RunStatusView): string | null {
  const reference = status.nodes.find((node) => node.role === 'reference');
  if (reference === undefined || reference.relativeRows === 0) return null;
  return digest([`reference finished ${reference.finished}`, ...status.nodes.map((node) => `${node.role} ${node.nodeId} ${node.relativeRows}`)].join('\n'));
}

/** The version of the merged space (the trainers' relative rows make it). Null below MIN_PCA_SAMPLES samples. */
export function pictureKey(status: RunStatusView): string | null {
  if (status.mergedSamples < MIN_PCA_SAMPLES) return null;
  const trainers = status.nodes.filter((node) => node.role === 'trainer');
  return digest(`${status.mergedSamples}\n${trainers.map((node) => `${node.nodeId} ${node.relativeRows}`).join('\n')}`);
}
