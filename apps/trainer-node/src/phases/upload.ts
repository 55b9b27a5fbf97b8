import type { Logger } from 'pino';
import type { Matrix } from '@rlsa/core';
import type { JoinInput, ModelCardView } from '@rlsa/client';
import type { AggregatorSession, UploadProgress } from '../aggregator-session.ts';
import type { TrainerNodeOptions } from '../node-options.ts';
import type { Progress } from '../progress.ts';
import type { TrainerNodeResult } from '../results.ts';
import type { NodeEmbeddings } from './embed.ts';
import type { ResolvedRun } from './resolve-run.ts';

/** What the node says about its model when it joins (architecture, width, task accuracy, and what else identifies it). */
export type ModelCard = ModelCardView;

function uploadProgress(progress: Progress, onAck: TrainerNodeOptions['upload']['onAck']): UploadProgress {
  return {
    start: (space, chunks) => progress.start(`upload ${space}`, chunks),
    acknowledged: (space, seq, rowsStored) => {
      progress.update(seq + 1, { rows: rowsStored });
      onAck?.(space, seq);
    },
  };
}

/**
 * Phase 6, upload: joins with the model card, uploads the relative rows (and the absolute ones when
 * asked) in chunks, each resuming after Join's last acknowledged seq, then says the node is finished.
 * Only these rows leave the node.
 */
export async function uploadNode(
  session: AggregatorSession,
  options: Pick<TrainerNodeOptions, 'node' | 'upload'>,
  card: ModelCard,
  run: ResolvedRun,
  embeddings: NodeEmbeddings,
  relative: Matrix,
  progress: Progress,
  log: Logger,
): Promise<NonNullable<TrainerNodeResult['upload']>> {
  const { node, upload } = options;
  const join: JoinInput = {
    runId: node.run,
    nodeId: node.nodeId,
    taskId: node.role === 'trainer' ? String(node.task) : 'all',
    role: node.role,
    model: card,
    anchorFingerprint: run.fingerprint,
    relativeWidth: run.width,
  };
  const joined = await session.join(join);
  log.info({ lastRelativeSeq: joined.lastRelativeSeq, lastAbsoluteSeq: joined.lastAbsoluteSeq }, 'joined the run');
  const rows = { ids: embeddings.ids, labels: embeddings.labels };
  const toProgress = uploadProgress(progress, upload.onAck);
  const relativeValues = relative.data instanceof Float32Array ? relative.data : Float32Array.from(relative.data);
  const relativeSummary = await session.uploadSpace(join, { ...rows, space: 'relative', values: relativeValues, cols: relative.cols }, joined.lastRelativeSeq, toProgress);
  progress.stop();
  const absoluteSummary = upload.uploadAbsolute
    ? await session.uploadSpace(join, { ...rows, space: 'absolute', values: embeddings.absolute, cols: embeddings.width }, joined.lastAbsoluteSeq, toProgress)
    : undefined;
  progress.stop();
  await session.finish(node.run, node.nodeId);
  log.info('upload finished');
  return absoluteSummary ? { relative: relativeSummary, absolute: absoluteSummary } : { relative: relativeSummary };
}
