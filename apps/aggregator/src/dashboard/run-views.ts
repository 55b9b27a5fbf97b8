import type { Evaluation, RunReads } from '../query/run-reads.ts';
import type { RunDirectory } from '../runs/run-directory.ts';
import { DashboardError } from './dashboard-error.ts';
import { drawPca } from './pca-picture.ts';
import type { PcaPicture } from './pca-picture.ts';
import { ThrottledComputation } from './throttled-computation.ts';
import type { Computed } from './throttled-computation.ts';
import { evaluationKey, pictureKey } from './view-keys.ts';

/**
 * The heavy views of each run, computed on demand and cached per version of the run's data
 * (`view-keys.ts`): the CKA table (the query module's Evaluate, the same numbers as the RPC) and
 * the PCA picture. Each is recomputed at most once per `intervalMs` per run, so that a reload or
 * many readers cost one computation.
 */
export class RunViews {
  private readonly views = new Map<string, { cka: ThrottledComputation<Evaluation>; pca: ThrottledComputation<PcaPicture> }>();

  constructor(
    private readonly runs: Pick<RunDirectory, 'run' | 'status'>,
    private readonly reads: Pick<RunReads, 'evaluate' | 'merged' | 'sortedIds'>,
    private readonly limits: { intervalMs: number; pcaSampleRows: number },
  ) {}

  /** The CKA table for the run's current data; CONFLICT while the reference has no row. */
  evaluation(runId: string): Promise<Computed<Evaluation>> {
    return this.of(runId).cka.get();
  }

  /** The PCA picture of the run's current merged space; CONFLICT below three merged samples. */
  picture(runId: string): Promise<Computed<PcaPicture>> {
    return this.of(runId).pca.get();
  }

  /** Drops the run's cached views (the run was deleted). */
  forget(runId: string): void {
    this.views.delete(runId);
  }

  /** Runs with cached views (for tests). */
  get size(): number {
    return this.views.size;
  }

  private of(runId: string): { cka: ThrottledComputation<Evaluation>; pca: ThrottledComputation<PcaPicture> } {
    this.runs.run(runId);
    let views = this.views.get(runId);
    if (views === undefined) {
      const keyOf = (key: (status: ReturnType<RunDirectory['status']>) => string | null, what: string) => (): string => {
        const value = key(this.runs.status(runId));
        if (value === null) throw new DashboardError('conflict', `run ${runId} has ${what}`);
        return value;
      };
      views = {
        cka: new ThrottledComputation({ key: keyOf(evaluationKey, 'no reference row yet'), compute: () => this.reads.evaluate(runId) }, this.limits.intervalMs),
        pca: new ThrottledComputation(
          {
            key: keyOf(pictureKey, 'fewer than three merged samples'),
            compute: async () => drawPca(this.reads, runId, await this.reads.sortedIds(runId), this.limits.pcaSampleRows),
          },
          this.limits.intervalMs,
        ),
      };
      this.views.set(runId, views);
    }
    return views;
  }
}
