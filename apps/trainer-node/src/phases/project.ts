import type { Logger } from 'pino';
import { jsLinalg, matrix, relativeProjection, type Linalg, type Matrix } from '@rlsa/core';
import type { RunConfigView } from '@rlsa/client';
import { NativeLinalg, nativeLinalgStatus } from '@rlsa/linalg-native';
import type { NodeEmbeddings } from './embed.ts';

/** The product's backend without any ML runtime: the project's native kernels when they load, else JavaScript. */
function runtimeFreeLinalg(): { linalg: Linalg; name: string } {
  if (!nativeLinalgStatus().available) return { linalg: jsLinalg, name: 'js' };
  const native = new NativeLinalg();
  return { linalg: native, name: `native-${native.level}` };
}

/**
 * Phase 5, project: the relative representation (N × A) of the node's embeddings on the run's
 * anchors, with the run's similarity and centering (core `relativeProjection`); the N×A product
 * runs on the fastest backend for its size (`linalgForWork`; RLSA_LINALG forces a side), or, for
 * a node that must load no ML runtime (`runtimeFree`: embeddings computed elsewhere), on the
 * native kernels or in JavaScript.
 */
export async function projectOnAnchors(embeddings: NodeEmbeddings, config: RunConfigView, log: Logger, options: { readonly runtimeFree?: boolean } = {}): Promise<Matrix> {
  const rows = embeddings.ids.length;
  const anchorCount = embeddings.anchors.length / embeddings.width;
  let linalg: { linalg: Linalg; name: string };
  if (options.runtimeFree === true) {
    linalg = runtimeFreeLinalg();
  } else {
    // Loaded here: it brings tfjs and ONNX Runtime, which an embeddings node never loads.
    const { linalgChoiceFromEnv, linalgForWork } = await import('@rlsa/linalg-tfjs');
    linalg = await linalgForWork(rows * anchorCount * embeddings.width, linalgChoiceFromEnv());
  }
  const relative = relativeProjection(matrix(rows, embeddings.width, embeddings.absolute), matrix(anchorCount, embeddings.width, embeddings.anchors), {
    similarity: config.similarity,
    center: config.center,
    linalg: linalg.linalg,
  });
  log.info({ rows, anchors: anchorCount, similarity: config.similarity, center: config.center, linalg: linalg.name }, 'projected on the anchors');
  return relative;
}
