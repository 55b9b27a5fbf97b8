import type { NodeStatusView } from '@rlsa/wire';
import type { RunDirectory } from '../runs/run-directory.ts';

/** What about a node makes it "seen": a chunk stored, an upload stream opened or closed, finishing. */
function signature(node: NodeStatusView): string {
  return `${node.relativeChunks}/${node.absoluteChunks}/${node.connected ? 1 : 0}/${node.finished ? 1 : 0}`;
}

/**
 * When each node was last seen doing something. The aggregator keeps no such time, so the
 * dashboard listens to each run's change notifications (the ones WatchRun follows) from the
 * moment it first shows the run, and notes per node when its status last changed. A connected
 * node is seen now; a node with no change seen since then has no time (undefined).
 */
export class NodeActivity {
  private readonly runs = new Map<string, { seen: Map<string, { signature: string; atMs: number | undefined }>; unsubscribe: () => void }>();

  constructor(
    private readonly directory: RunDirectory,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts following `runId` (idempotent). */
  follow(runId: string): void {
    if (this.runs.has(runId)) return;
    const run = this.directory.run(runId);
    const seen = new Map<string, { signature: string; atMs: number | undefined }>();
    for (const node of this.directory.status(runId).nodes) seen.set(node.nodeId, { signature: signature(node), atMs: undefined });
    const unsubscribe = run.changes.subscribe(() => this.update(runId));
    this.runs.set(runId, { seen, unsubscribe });
  }

  /** When `node` of `runId` was last seen (epoch ms), `now` when it is connected, undefined when unknown. */
  lastSeenMs(runId: string, node: NodeStatusView): number | undefined {
    if (node.connected) return this.now();
    return this.runs.get(runId)?.seen.get(node.nodeId)?.atMs;
  }

  /** Stops following a run (it was deleted). */
  forget(runId: string): void {
    this.runs.get(runId)?.unsubscribe();
    this.runs.delete(runId);
  }

  /** Stops following every run. */
  close(): void {
    for (const { unsubscribe } of this.runs.values()) unsubscribe();
    this.runs.clear();
  }

  private update(runId: string): void {
    const followed = this.runs.get(runId);
    if (followed === undefined || this.directory.find(runId) === undefined) return;
    const now = this.now();
    for (const node of this.directory.status(runId).nodes) {
      const current = signature(node);
      if (followed.seen.get(node.nodeId)?.signature !== current) followed.seen.set(node.nodeId, { signature: current, atMs: now });
    }
  }
}
