import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { AggregatorError } from '../errors.ts';
import type { AggregatorErrorCode } from '../errors.ts';
import { ChunkDamageError } from '../storage/chunk-damage.ts';
import type { DamagedNodes } from '../storage/chunk-damage.ts';
import type { ReadOutcome } from './read-thread.ts';
import type { ReadResults, ReadTask } from './read-tasks.ts';

export interface ReadPoolLimits {
  /** Threads running tasks, each one task at a time. */
  readThreads: number;
  /** Tasks waiting for a thread, at most; RESOURCE_EXHAUSTED beyond. */
  readQueue: number;
}

/**
 * The heavy reads off the event loop: a pool of read threads (piscina) with bounded concurrency
 * (one task per thread) and a bounded queue, so that Evaluate, Nearest, the merged space's order
 * and node spaces never hold the event loop that answers health checks and stores chunks. A task
 * over the queue bound is RESOURCE_EXHAUSTED at once (nothing waits unbounded); a damaged chunk a
 * thread finds is marked here (the log, the metrics) and answered DATA_LOSS.
 */
export class ReadPool {
  private readonly pool: Piscina;
  /** Tasks running or waiting (only this class gives the pool tasks). */
  private inFlight = 0;

  constructor(
    readonly limits: ReadPoolLimits,
    private readonly damage: Pick<DamagedNodes, 'mark'>,
  ) {
    this.pool = new Piscina({
      filename: fileURLToPath(new URL('../worker-bootstrap.mjs', import.meta.url)),
      workerData: { entry: new URL('./read-thread.ts', import.meta.url).href },
      minThreads: limits.readThreads,
      maxThreads: limits.readThreads,
      concurrentTasksPerWorker: 1,
      maxQueue: Math.max(1, limits.readQueue),
      // Threads stay: starting one compiles the read modules again (about a second).
      idleTimeout: Number.POSITIVE_INFINITY,
    });
  }

  /** Tasks running or waiting (a metric and the tests). */
  get pending(): number {
    return this.inFlight;
  }

  /** Runs `task` on a read thread; RESOURCE_EXHAUSTED when every thread is busy and `readQueue` tasks already wait. */
  async run<K extends ReadTask['kind']>(task: Extract<ReadTask, { kind: K }>): Promise<ReadResults[K]> {
    if (this.inFlight >= this.limits.readThreads + this.limits.readQueue) {
      throw new AggregatorError('resource_exhausted', `${this.inFlight - this.limits.readThreads} reads are waiting for a read thread, the most the aggregator queues; retry later`);
    }
    this.inFlight += 1;
    let outcome: ReadOutcome;
    try {
      outcome = (await this.pool.run(task)) as ReadOutcome;
    } finally {
      this.inFlight -= 1;
    }
    if ('value' in outcome) return outcome.value as ReadResults[K];
    if ('damage' in outcome) {
      this.damage.mark(outcome.damage);
      throw new ChunkDamageError(outcome.damage);
    }
    throw new AggregatorError(outcome.error.code as AggregatorErrorCode, outcome.error.message);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
