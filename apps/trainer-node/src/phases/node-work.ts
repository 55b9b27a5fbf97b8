import type { Logger } from 'pino';
import type { ModelCardView } from '@rlsa/client';
import type { TrainerSettings } from '../options.ts';
import type { TrainResult } from '../training.ts';
import type { NodeEmbeddings } from './embed.ts';

/** What phases 3 and 4 (a model trained or opened, then embedding) give the rest of the node. */
export interface NodeWork {
  readonly embeddings: NodeEmbeddings;
  /** What the node says about its model when it joins: kind, file name, width; never a path. */
  readonly card: ModelCardView;
  /** The model's name for the results file (`vanilla-cnn`, `onnx encoder.onnx`, ...). */
  readonly model: string;
  /** What ran it: the tfjs backend, ONNX Runtime, or `none` (embeddings). */
  readonly backend: string;
  /** The training, when the node trained its model. */
  readonly training: TrainResult | null;
}

/** Initialises the tfjs backend and logs it once; tfjs is loaded here, so a node that trains nothing never loads it. */
export async function initNodeBackend(training: TrainerSettings['training'], log: Logger): Promise<string> {
  const { initNodeBackend: init } = await import('../tfjs-backend.ts');
  return init(training, log);
}
