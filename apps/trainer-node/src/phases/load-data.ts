import type { Logger } from 'pino';
import { anchorPoolIds, loadDataset, nodeSamplesOf, runPartition, type ImageDataset, type NodeSamples } from '@rlsa/data';
import type { TrainerNodeOptions } from '../node-options.ts';

/** What a node works on: its copy of the data set and its own samples of the run's partition. */
export interface NodeData {
  readonly dataset: ImageDataset;
  readonly samples: NodeSamples;
  /** The trainer's task; null for the reference (it holds every task). */
  readonly task: number | null;
}

/**
 * Phase 1, load the data: the data set (given in process, or read from `dataDir`), the scenario's
 * task partitions of its training split (the anchor pool excluded, as on every node of the run) and
 * this node's training and test samples. Issue 14's data sources are other implementations of this phase.
 */
export function loadNodeData(options: Pick<TrainerNodeOptions, 'node' | 'data' | 'partition'>, log: Logger): NodeData {
  const { node, data, partition } = options;
  const dataset =
    data.loaded ??
    loadDataset(data.dataset, { ...(data.dataDir !== undefined ? { dataDir: data.dataDir } : {}), ...(data.synthetic !== undefined ? { synthetic: data.synthetic } : {}) });
  const task = node.role === 'trainer' ? node.task : null;
  const samples = nodeSamplesOf(dataset, runPartition(dataset, partition, anchorPoolIds(dataset)), { role: node.role, task: task ?? undefined });
  log.info({ dataset: dataset.name, source: dataset.source, task, classes: samples.classes.length, train: samples.trainIndices.length, test: samples.testIndices.length }, 'data loaded');
  return { dataset, samples, task };
}
