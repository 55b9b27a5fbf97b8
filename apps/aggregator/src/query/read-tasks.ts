import type { Linalg } from '@rlsa/core';
import { sampleIdWords } from '@rlsa/wire';
import { SampleIndex } from '../ledger/sample-index.ts';
import type { MergedSpace } from '../merge/merge-strategy.ts';
import { SnapshotReader } from '../merge/merged-snapshot.ts';
import type { MergedSnapshot } from '../merge/merged-snapshot.ts';
import { evaluateAgainstReference } from './evaluate.ts';
import type { CkaResult } from './evaluate.ts';
import { nearestByDirection } from './nearest.ts';
import type { NearestSearch, NeighborResult } from './nearest.ts';
import { nodeSpaceParts, readNodeSpace } from './node-space.ts';
import type { ChunkPages, NodeSpaceTarget, SpaceData } from './node-space.ts';

/**
 * The heavy reads, as tasks a read thread runs (`read-thread.ts`): plain data in (structured
 * clones; merged sums shared, not copied), plain data out. Each is a pure function of its task and
 * of what it reads: the event loop decides what to read (which nodes, through which seq) and
 * checks the request before a task is made.
 */
export type ReadTask =
  | { kind: 'evaluate'; dataDir: string; reference: NodeSpaceTarget; trainers: NodeSpaceTarget[]; merged: MergedSnapshot }
  | { kind: 'nearest'; merged: MergedSnapshot; search: NearestSearch }
  | { kind: 'sorted-ids'; merged: MergedSnapshot }
  | { kind: 'node-space-page'; dataDir: string; target: NodeSpaceTarget; afterSeq: number; maxValues: number };

/** A page of a node's space: its parts, and the last seq read (-1: none; the next page starts after it). */
export interface NodeSpacePage {
  parts: SpaceData[];
  lastSeq: number;
}

/** What each task kind answers. */
export interface ReadResults {
  evaluate: CkaResult[];
  nearest: NeighborResult[];
  'sorted-ids': BigUint64Array;
  'node-space-page': NodeSpacePage;
}

/** Runs one task; `pagesOf` gives the chunk pages of a data dir (opened once per thread); `linalg` computes Evaluate's products (the core's loops without it). */
export function runReadTask(task: ReadTask, pagesOf: (dataDir: string) => ChunkPages, linalg?: Linalg): ReadResults[ReadTask['kind']] {
  switch (task.kind) {
    case 'evaluate':
      return evaluateTask(task, pagesOf(task.dataDir), linalg);
    case 'nearest':
      return nearestByDirection(new SnapshotReader(task.merged), task.search);
    case 'sorted-ids':
      return sortedIds(new SnapshotReader(task.merged));
    case 'node-space-page':
      return nodeSpacePage(pagesOf(task.dataDir), task);
  }
}

/** CKA of the merged space and each trainer against the reference (`evaluateAgainstReference`), spaces read here one at a time. */
function evaluateTask(task: Extract<ReadTask, { kind: 'evaluate' }>, pages: ChunkPages, linalg: Linalg | undefined): CkaResult[] {
  const reference = readNodeSpace(pages, task.reference);
  const merged = mergedRowsOf(new SnapshotReader(task.merged), reference.sampleIds);
  const trainers = function* (): Generator<{ nodeId: string; space: SpaceData }> {
    for (const target of task.trainers) yield { nodeId: target.nodeId, space: readNodeSpace(pages, target) };
  };
  return evaluateAgainstReference(reference, merged, trainers(), linalg);
}

/** The merged rows of `wanted` samples, read from the snapshot: the slots of those ids, found in one pass over the slots. */
function mergedRowsOf(reader: SnapshotReader, wanted: BigUint64Array): Pick<MergedSpace, 'read'> {
  const wantedIndex = SampleIndex.positions(sampleIdWords(wanted));
  const slotOf = new SampleIndex(wanted.length);
  reader.forEachId((slot, low, high) => {
    if (wantedIndex.has(low, high)) slotOf.set(low, high, slot);
  });
  return {
    read: (low, high, out, offset) => {
      const slot = slotOf.get(low, high);
      return slot < 0 ? undefined : reader.readMean(slot, out, offset);
    },
  };
}

/** Every merged sample id, ascending. */
function sortedIds(reader: SnapshotReader): BigUint64Array {
  const ids = new BigUint64Array(reader.size);
  const words = sampleIdWords(ids);
  let n = 0;
  reader.forEachId((_slot, low, high) => {
    words[2 * n] = low;
    words[2 * n + 1] = high;
    n += 1;
  });
  return ids.slice(0, n).sort();
}

/** The node's chunks after `afterSeq` (through the target's seq), until about `maxValues` values are read. */
function nodeSpacePage(pages: ChunkPages, task: Extract<ReadTask, { kind: 'node-space-page' }>): NodeSpacePage {
  const { target } = task;
  const parts: SpaceData[] = [];
  let values = 0;
  let lastSeq = task.afterSeq;
  for (const part of nodeSpaceParts(pages, target.runId, target.nodeId, target.space, target.throughSeq, task.afterSeq)) {
    parts.push({ sampleIds: part.sampleIds, values: part.values, cols: part.cols, labels: part.labels });
    lastSeq = part.seq;
    values += part.values.length;
    if (values >= task.maxValues) break;
  }
  return { parts, lastSeq };
}
