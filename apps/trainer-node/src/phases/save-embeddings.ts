import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { EMBEDDINGS_FILES } from '@rlsa/encoders';
import { writeNpy } from '@rlsa/npy';
import { TrainerError } from '../errors.ts';
import type { NodeEmbeddings } from './embed.ts';

/**
 * Writes a node's absolute embeddings as an `embeddings:` folder (`EMBEDDINGS_FILES`): N × D
 * float32 `embeddings.npy`, N uint64 `ids.npy`, N int32 `labels.npy` (−1 = none) and A × D
 * `anchor_embeddings.npy` in the run's anchor order. The folder can join a run again without its
 * model (`--model embeddings:DIR`); nothing of it leaves the machine.
 */
export function saveEmbeddings(dir: string, embeddings: NodeEmbeddings): void {
  const { width } = embeddings;
  const rows = embeddings.ids.length;
  const ids = embeddings.ids instanceof BigUint64Array ? embeddings.ids : BigUint64Array.from(embeddings.ids, (id) => BigInt(id));
  try {
    mkdirSync(dir, { recursive: true });
    writeNpy(path.join(dir, EMBEDDINGS_FILES.embeddings), { dtype: 'float32', shape: [rows, width], data: embeddings.absolute });
    writeNpy(path.join(dir, EMBEDDINGS_FILES.ids), { dtype: 'uint64', shape: [rows], data: ids });
    writeNpy(path.join(dir, EMBEDDINGS_FILES.labels), { dtype: 'int32', shape: [rows], data: embeddings.labels });
    writeNpy(path.join(dir, EMBEDDINGS_FILES.anchors), { dtype: 'float32', shape: [embeddings.anchors.length / width, width], data: embeddings.anchors });
  } catch (error) {
    throw new TrainerError('invalid_argument', `${dir}: cannot write the embeddings (${(error as Error).message})`, { cause: error });
  }
}
