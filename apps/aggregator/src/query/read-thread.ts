// The body of a read thread (a piscina worker started through worker-bootstrap.mjs): runs read
// tasks against the data dir's chunks and the shared merged sums. What it answers is plain data:
// the value, a damaged chunk found (the event loop marks its node), or an error's code and message
// (errors do not cross threads with their class).
import { threadId } from 'node:worker_threads';
import { CodedError } from '@rlsa/core';
import type { Linalg } from '@rlsa/core';
import { NativeLinalg, nativeLinalgStatus } from '@rlsa/linalg-native';
import { ChunkDamageError } from '../storage/chunk-damage.ts';
import type { ChunkDamage } from '../storage/chunk-damage.ts';
import { ReadOnlyChunkPages } from './chunk-pages.ts';
import { runReadTask } from './read-tasks.ts';
import type { ReadResults, ReadTask } from './read-tasks.ts';

/** What a read thread answers for a task. */
export type ReadOutcome = { value: ReadResults[ReadTask['kind']] } | { damage: ChunkDamage } | { error: { code: string; message: string } };

/** Chunk pages per data dir, opened at a thread's first task for it and kept for the thread's life. */
const pages = new Map<string, ReadOnlyChunkPages>();

function pagesOf(dataDir: string): ReadOnlyChunkPages {
  let opened = pages.get(dataDir);
  if (opened === undefined) {
    opened = new ReadOnlyChunkPages(dataDir);
    pages.set(dataDir, opened);
  }
  return opened;
}

/**
 * The products of Evaluate's CKA on the native kernels where the addon is built, on this thread
 * alone (one kernel thread per read thread: `--read-threads` bounds the cores reads take); the
 * core's own loops otherwise, which are about a hundred times slower at a width of 1,024.
 */
const linalg: Linalg | undefined = nativeLinalgStatus().available ? new NativeLinalg({ threads: 1 }) : undefined;

export default function readThread(task: ReadTask): ReadOutcome {
  try {
    return { value: runReadTask(task, pagesOf, linalg) };
  } catch (error: unknown) {
    if (error instanceof ChunkDamageError) return { damage: error.damage };
    if (error instanceof CodedError) return { error: { code: error.code, message: error.message } };
    return { error: { code: 'internal', message: `read thread ${threadId}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` } };
  }
}
