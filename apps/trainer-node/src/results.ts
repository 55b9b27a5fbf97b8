import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { EncodingName } from '@rlsa/client';
import type { NodeRoleName, Similarity } from '@rlsa/core';
import { TrainerError } from './errors.ts';
import type { EpochReport } from './training.ts';

/** What one space's upload did. */
export interface SpaceUploadSummary {
  readonly rows: number;
  readonly chunks: number;
  /** Join's last acknowledged seq when the upload started (-1: from the beginning). */
  readonly resumedAfterSeq: number;
  readonly lastSeq: number;
  readonly duplicates: number;
  /** Times the client reconnected and resumed after its last acknowledged chunk. */
  readonly reconnects: number;
}

/** Seconds each phase of a node took. */
export interface NodeTimings {
  readonly loadSeconds: number;
  readonly trainSeconds: number;
  readonly embedSeconds: number;
  readonly projectSeconds: number;
  readonly uploadSeconds: number;
  readonly totalSeconds: number;
}

/** A node's summary: what `runTrainerNode` returns and `--results-file` holds (JSON). */
export interface TrainerNodeResult {
  readonly runId: string;
  readonly nodeId: string;
  readonly role: NodeRoleName;
  readonly task: number | null;
  readonly classes: readonly number[];
  /** The built-in data set's name, or the party's source (`imagefolder:NAME`, `npy:NAME`, `embeddings:NAME`, folder names only). */
  readonly dataset: string;
  readonly model: string;
  readonly embeddingWidth: number;
  /** The tfjs backend, the ONNX Runtime it ran, or `none` (embeddings computed elsewhere). */
  readonly backend: string;
  /** Accuracy on the test samples of the node's classes (0..1); null for a model without a classifier (pretrained, embeddings). */
  readonly taskAccuracy: number | null;
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly anchors: number;
  readonly anchorFingerprint: string;
  readonly similarity: Similarity;
  readonly center: boolean;
  readonly encoding: EncodingName;
  /** Null when the node trained nothing (a pretrained model, embeddings). */
  readonly training: { readonly bestEpoch: number; readonly stoppedEarly: boolean; readonly epochs: readonly EpochReport[] } | null;
  readonly upload: { readonly relative: SpaceUploadSummary; readonly absolute?: SpaceUploadSummary } | null;
  readonly timings: NodeTimings;
}

/** Writes a node's summary as indented JSON (the `--results-file` format). */
export function writeTrainerNodeResult(path: string, result: TrainerNodeResult): void {
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
}

/** Reads a summary `writeTrainerNodeResult` wrote; undefined when the node wrote none (it failed first). */
export function readTrainerNodeResult(path: string): TrainerNodeResult | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as TrainerNodeResult;
  } catch (error: unknown) {
    throw new TrainerError('invalid_argument', `${path}: not a node's results file (${(error as Error).message})`, { cause: error });
  }
}
