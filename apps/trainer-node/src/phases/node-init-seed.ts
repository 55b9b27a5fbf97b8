import { createHash } from 'node:crypto';

/**
 * A node's default initialisation seed: the first 31 bits of SHA-256("<seed>:<node id>"). Distinct
 * nodes of one run get distinct, reproducible initialisations.
 */
export function nodeInitSeed(seed: number, nodeId: string): number {
  return createHash('sha256').update(`${seed}:${nodeId}`).digest().readUInt32LE(0) >>> 1;
}
