import type { Logger } from 'pino';
import { anchorPoolIds, loadDataset, nodeSamplesOf, runPartition, type ImageDataset, type NodeSamples } from '@rlsa/data';
import { openEmbeddings, type Encoder } from '@rlsa/encoders';
import { openSource, parseResizeRule, type ChannelCount, type DataSource, type ResizeRule } from '@rlsa/sources';
import type { DataChoice } from '../node-choices.ts';
import type { NodeDataOptions, TrainerNodeOptions } from '../node-options.ts';
import { TRAINER_DATA_DEFAULTS } from '../options.ts';

/** A built-in data set and the node's samples of the run's partition (today's nodes; the simulation's). */
export interface BuiltinNodeData {
  readonly kind: 'builtin';
  readonly dataset: ImageDataset;
  readonly samples: NodeSamples;
  /** The trainer's task; null for the reference (it holds every task). */
  readonly task: number | null;
}

/** A party's own data: a source read in batches (and, for an embeddings folder, the encoder that passes its rows through). */
export interface PartyNodeData {
  readonly kind: 'party';
  readonly source: DataSource;
  /** How images are brought to the node's size (anchors of an images set too); none: as they are. */
  readonly resize: ResizeRule | undefined;
  /** `embeddings:DIR`: its rows are the embeddings, this encoder returns them. */
  readonly embeddings?: Encoder;
}

/** What a node works on. */
export type NodeData = BuiltinNodeData | PartyNodeData;

/**
 * The data set (given in process, or read from `dataDir`), the scenario's task partitions of its
 * training split (the anchor pool excluded, as on every node of the run) and this node's training
 * and test samples.
 */
function loadBuiltinData(options: Pick<TrainerNodeOptions, 'node' | 'data' | 'partition'>, name: string, log: Logger): BuiltinNodeData {
  const { node, data, partition } = options;
  const dataset =
    data.loaded ??
    loadDataset(name, { ...(data.dataDir !== undefined ? { dataDir: data.dataDir } : {}), ...(data.synthetic !== undefined ? { synthetic: data.synthetic } : {}) });
  const task = node.role === 'trainer' ? node.task : null;
  const samples = nodeSamplesOf(dataset, runPartition(dataset, partition, anchorPoolIds(dataset)), { role: node.role, task: task ?? undefined });
  log.info({ dataset: dataset.name, source: dataset.source, task, classes: samples.classes.length, train: samples.trainIndices.length, test: samples.testIndices.length }, 'data loaded');
  return { kind: 'builtin', dataset, samples, task };
}

/** The resize rule of `--resize`, `--resize-fit` and `--resize-kernel`; undefined without `--resize`. */
export function resizeRuleOf(data: NodeDataOptions): ResizeRule | undefined {
  if (data.resize === undefined) return undefined;
  return parseResizeRule(data.resize, data.resizeFit ?? TRAINER_DATA_DEFAULTS.resizeFit, data.resizeKernel ?? TRAINER_DATA_DEFAULTS.resizeKernel);
}

/** A party's folder, or its embeddings folder, opened (scanned and checked: every refusal names the file). */
async function openPartyData(choice: Exclude<DataChoice, { kind: 'builtin' }>, data: NodeDataOptions, seed: number, log: Logger): Promise<PartyNodeData> {
  const holdoutFraction = data.heldOut ?? TRAINER_DATA_DEFAULTS.heldOut;
  const resize = resizeRuleOf(data);
  let party: PartyNodeData;
  if (choice.kind === 'embeddings') {
    const folder = openEmbeddings({ kind: 'embeddings', location: choice.dir }, { holdoutFraction, seed });
    party = { kind: 'party', source: folder.source, resize, embeddings: folder.encoder };
  } else {
    const channels = Number(data.channels ?? TRAINER_DATA_DEFAULTS.channels) as ChannelCount;
    const source = await openSource(
      { kind: choice.kind, location: choice.dir },
      {
        imageFolder: { ...(resize !== undefined ? { resize } : {}), channels, ids: data.ids ?? 'content', holdoutFraction, seed },
        npy: { ...(data.ids !== undefined ? { ids: data.ids } : {}), holdoutFraction, seed },
      },
    );
    party = { kind: 'party', source, resize };
  }
  const { source } = party;
  log.info({ source: source.description, train: source.train.count, test: source.test.count, testOrigin: source.testOrigin, duplicates: source.duplicates.length }, 'data opened');
  return party;
}

/**
 * Phase 1, load the data: a built-in data set and this node's samples of the run's partition, or
 * a party's own data (an image folder, an NPY folder, an embeddings folder), scanned and checked
 * before anything else happens.
 */
export async function loadNodeData(options: Pick<TrainerNodeOptions, 'node' | 'data' | 'partition'>, choice: DataChoice, log: Logger): Promise<NodeData> {
  if (choice.kind === 'builtin') return loadBuiltinData(options, choice.dataset, log);
  return openPartyData(choice, options.data, options.partition.seed, log);
}
