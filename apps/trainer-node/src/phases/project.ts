import type { Logger } from 'pino';
import { matrix, relativeProjection, type Matrix } from '@rlsa/core';
import type { RunConfigView } from '@rlsa/client';
import { linalgChoiceFromEnv, linalgForWork } from '@rlsa/linalg-tfjs';
import type { NodeEmbeddings } from './embed.ts';

/**
 * Phase 5, project: the relative representation (N × A) of the node's embeddings on the run's
 * anchors, with the run's similarity and centering (core `relativeProjection`); the N×A product
 * runs on the process's tfjs backend when it is big enough to pay off (RLSA_LINALG forces a side).
 */
export async function projectOnAnchors(embeddings: NodeEmbeddings, config: RunConfigView, log: Logger): Promise<Matrix> {
  const rows = embeddings.ids.length;
  const anchorCount = embeddings.anchors.length / embeddings.width;
  const linalg = await linalgForWork(rows * anchorCount * embeddings.width, linalgChoiceFromEnv());
  const relative = relativeProjection(matrix(rows, embeddings.width, embeddings.absolute), matrix(anchorCount, embeddings.width, embeddings.anchors), {
    similarity: config.similarity,
    center: config.center,
    linalg: linalg.linalg,
  });
  log.info({ rows, anchors: anchorCount, similarity: config.similarity, center: config.center, linalg: linalg.name }, 'projected on the anchors');
  return relative;
}
