import { spaceName } from '@rlsa/wire';
import { AggregatorError } from '../errors.ts';

/** A stored chunk that cannot be read back as it was acknowledged: where, and why. */
export interface ChunkDamage {
  runId: string;
  nodeId: string;
  /** SpaceKind (1 relative, 2 absolute) */
  space: number;
  seq: number;
  /** One line: a checksum mismatch, a missing or short segment file, a header that is not the index's. */
  reason: string;
}

/** One line naming the damaged chunk. */
export function describeDamage(damage: ChunkDamage): string {
  return `chunk ${damage.seq} of node ${damage.nodeId} (${spaceName(damage.space) ?? `space ${damage.space}`}) in run ${damage.runId} is damaged: ${damage.reason}`;
}

/**
 * Reading a damaged chunk, or anything of a node with a damaged chunk: DATA_LOSS (the data was
 * accepted, and storage no longer holds it intact; retrying does not help).
 */
export class ChunkDamageError extends AggregatorError {
  constructor(readonly damage: ChunkDamage) {
    super('data_loss', describeDamage(damage));
  }
}

/**
 * The nodes with a damaged chunk, found at the rebuild or by any later read: a damaged node's
 * rows are left out of the merge (at the rebuild), its reads and uploads answer DATA_LOSS, and
 * each newly found damaged chunk is told to `onDamage` (the log and the metrics).
 */
export class DamagedNodes {
  private readonly nodes = new Map<string, ChunkDamage>();
  private readonly chunks = new Set<string>();

  constructor(private readonly onDamage: (damage: ChunkDamage) => void = () => {}) {}

  /** Records a damaged chunk (once per chunk); the node keeps its first damage. */
  mark(damage: ChunkDamage): void {
    const chunkKey = JSON.stringify([damage.runId, damage.nodeId, damage.space, damage.seq]);
    if (this.chunks.has(chunkKey)) return;
    this.chunks.add(chunkKey);
    const nodeKey = key(damage.runId, damage.nodeId);
    if (!this.nodes.has(nodeKey)) this.nodes.set(nodeKey, damage);
    this.onDamage(damage);
  }

  /** The node's first damaged chunk, if it has one. */
  find(runId: string, nodeId: string): ChunkDamage | undefined {
    // Checked for every uploaded chunk: no key is built while nothing is damaged (the usual case).
    if (this.nodes.size === 0) return undefined;
    return this.nodes.get(key(runId, nodeId));
  }

  /** DATA_LOSS when the node has a damaged chunk. */
  check(runId: string, nodeId: string): void {
    const damage = this.find(runId, nodeId);
    if (damage !== undefined) throw new ChunkDamageError(damage);
  }

  /** Damaged nodes, all runs. */
  get nodeCount(): number {
    return this.nodes.size;
  }

  /** Forgets a deleted run's damage. */
  forgetRun(runId: string): void {
    for (const [nodeKey, damage] of this.nodes) if (damage.runId === runId) this.nodes.delete(nodeKey);
    for (const chunkKey of this.chunks) if ((JSON.parse(chunkKey) as string[])[0] === runId) this.chunks.delete(chunkKey);
  }
}

function key(runId: string, nodeId: string): string {
  return JSON.stringify([runId, nodeId]);
}
