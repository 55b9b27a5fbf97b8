import type { Logger } from 'pino';
import type { ModelName } from '../model-specs.ts';
import type { TrainerSettings } from '../options.ts';
import type { Progress } from '../progress.ts';
import { timed, type PhaseSeconds } from '../timings.ts';
import type { BuiltinNodeData } from './load-data.ts';
import { initNodeBackend, type NodeWork } from './node-work.ts';
import type { ResolvedRun } from './resolve-run.ts';

/**
 * Phases 3 and 4 on a built-in data set with one of the node's models (today's nodes, the
 * simulation's): train on the node's partition, then embed the anchors (ids of the data set) and
 * the node's samples. tfjs and the phases that use it are loaded here, when needed.
 */
export async function builtinWork(
  data: BuiltinNodeData,
  run: ResolvedRun,
  name: ModelName,
  training: TrainerSettings['training'],
  initSeed: number,
  context: { readonly progress: Progress; readonly log: Logger; readonly seconds: PhaseSeconds },
): Promise<NodeWork> {
  const { progress, log, seconds } = context;
  const backend = await initNodeBackend(training, log);
  const { trainNodeModel } = await import('./train-model.ts');
  const { embedNode } = await import('./embed.ts');
  const trained = await timed(seconds, 'trainSeconds', () => trainNodeModel(data, name, training, initSeed, progress, log));
  const embeddings = await timed(seconds, 'embedSeconds', () => embedNode(trained, data, run.anchorIds, progress, log));
  const card = { architecture: trained.name, embeddingWidth: trained.width, ...(embeddings.taskAccuracy !== null ? { taskAccuracy: embeddings.taskAccuracy } : {}) };
  return { embeddings, card, model: trained.name, backend, training: trained.training };
}
