import type { ImageDataset, SyntheticOptions } from '@rlsa/data';
import { connectionFromSettings, type AggregatorConnection } from './connection.ts';
import type { TrainerArgvSettings, TrainerSettings } from './options.ts';
import type { Progress } from './progress.ts';
import type { RetryPolicy } from '@rlsa/client';

/** The data a node reads: the settings' data (defaults where left out), or a built-in data set given in process. */
export type NodeDataOptions = NonNullable<TrainerArgvSettings['data']> & {
  /** Generator options when `dataset` is 'synthetic' (the defaults otherwise, as every node must agree). */
  readonly synthetic?: SyntheticOptions | undefined;
  /** An already loaded data set (in-process callers); `dataset` and `dataDir` are then ignored. */
  readonly loaded?: ImageDataset | undefined;
};

/** How a node uploads: the settings, and the hooks in-process callers use. */
export type NodeUploadOptions = TrainerSettings['upload'] & {
  /**
   * The node's retry policy, handed to the client (the one owner of retries: Join, FinishUpload,
   * opening WatchRun, an upload's reconnects); default DEFAULT_NODE_RETRY.
   */
  readonly retry?: RetryPolicy | undefined;
  /** Called after each acknowledged chunk (tests use it to cut the connection mid-upload); must not throw. */
  readonly onAck?: ((space: 'relative' | 'absolute', seq: number) => void) | undefined;
  /** Stops the upload (the node then rejects); nothing is retried once it is aborted. */
  readonly signal?: AbortSignal | undefined;
};

/**
 * Everything one trainer node needs, by phase: who it is (`node`), what it reads (`data`), how the
 * run splits the data (`partition`), how it trains (`training`), how it uploads (`upload`) and to
 * whom (`connection`; absent: train, embed and report only, nothing is sent). The command line fills
 * it from `TrainerSettings` (`nodeOptionsFromSettings`).
 */
export interface TrainerNodeOptions {
  readonly node: TrainerSettings['node'];
  readonly data: NodeDataOptions;
  readonly partition: TrainerSettings['partition'];
  readonly training: TrainerSettings['training'];
  readonly upload: NodeUploadOptions;
  /** The run's anchors from a local copy (default: fetched from the aggregator, or a built-in data set's). */
  readonly anchors?: TrainerSettings['anchors'] | undefined;
  /** How a pretrained model takes its input (default: its metadata). */
  readonly encoder?: Partial<TrainerSettings['encoder']> | undefined;
  /** Where the node also writes its embeddings (`--embeddings-out`); nothing of it is sent. */
  readonly output?: Pick<TrainerSettings['output'], 'embeddingsOut'> | undefined;
  readonly connection?: AggregatorConnection | undefined;
  /** Where long phases report; default: a bar on a TTY stderr, pino lines otherwise. */
  readonly progress?: Progress | undefined;
}

/** The node's options from its resolved settings: the token and TLS files read, the rest as given. */
export function nodeOptionsFromSettings(settings: TrainerSettings): TrainerNodeOptions {
  const { node, data, partition, training, upload, anchors, encoder, output } = settings;
  return { node, data, partition, training, upload, anchors, encoder, output: { embeddingsOut: output.embeddingsOut }, connection: connectionFromSettings(settings.connection) };
}
