import type { RunStatusView } from '@rlsa/wire';
import type { Logger } from 'pino';
import { audit } from '../access/audit-log.ts';
import type { Principal } from '../auth.ts';
import { AggregatorError } from '../errors.ts';
import type { RunDirectory } from './run-directory.ts';

/** What the lifecycle needs of the aggregator's core besides the runs. */
export interface LifecycleStorage {
  /** Resolves once the run's chunks handed to the writer before now are stored (and merged). */
  flushRun(runId: string): Promise<void>;
  /** Removes a run's stored rows and files after its writes in flight; resolves with the bytes freed. */
  deleteStoredRun(runId: string): Promise<number>;
}

/**
 * A run's life: open → closed → deleted. Closing stops joins and uploads and waits for the chunks
 * accepted before it, so that the merged space it answers with is final; deleting records the
 * deletion, releases the run's memory and watchers, then removes its stored data and gives the disk
 * space back. Each is an admin action, written to the audit log.
 */
export class RunLifecycle {
  constructor(
    private readonly runs: RunDirectory,
    private readonly storage: LifecycleStorage,
    private readonly log: Logger,
  ) {}

  /** CloseRun (idempotent): the run's status once every chunk accepted before is merged. */
  async close(runId: string, who: Principal): Promise<RunStatusView> {
    const closedNow = this.runs.close(runId);
    await this.storage.flushRun(runId);
    const status = this.runs.status(runId);
    audit(this.log, who, 'CloseRun', { runId, outcome: closedNow ? 'closed' : 'already closed', mergedSamples: status.mergedSamples });
    return status;
  }

  /**
   * DeleteRun: INVALID_ARGUMENT without `confirm`; a run deleted before answers its status and 0
   * bytes (idempotent). The deletion is stored before anything is removed, so a crash in between
   * is finished at the next start.
   */
  async delete(runId: string, confirm: boolean, who: Principal): Promise<{ status: RunStatusView; bytesFreed: number }> {
    if (!confirm) throw new AggregatorError('invalid_argument', `DeleteRun of ${runId} needs confirm: true (a deletion cannot be undone)`);
    if (this.runs.isDeleted(runId)) {
      const status = this.runs.status(runId);
      audit(this.log, who, 'DeleteRun', { runId, outcome: 'already deleted', bytesFreed: 0 });
      return { status, bytesFreed: 0 };
    }
    const status = this.runs.markDeleted(runId);
    const bytesFreed = await this.storage.deleteStoredRun(runId);
    audit(this.log, who, 'DeleteRun', { runId, outcome: 'deleted', bytesFreed });
    return { status, bytesFreed };
  }
}
