import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The aggregator's Prometheus metrics, in a registry of its own (several servers may live in
 * one process, e.g. in tests).
 */
export class AggregatorMetrics {
  readonly registry = new Registry();
  readonly chunks = new Counter({
    name: 'rlsa_aggregator_chunks_total',
    help: 'Chunks acknowledged, by space and whether they were duplicates',
    labelNames: ['space', 'duplicate'] as const,
    registers: [this.registry],
  });
  readonly rows = new Counter({
    name: 'rlsa_aggregator_rows_total',
    help: 'Rows newly stored (duplicates not counted), by space',
    labelNames: ['space'] as const,
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'rlsa_aggregator_payload_bytes_total',
    help: 'Payload bytes (ids, values, scales, labels) of acknowledged chunks',
    registers: [this.registry],
  });
  readonly rejections = new Counter({
    name: 'rlsa_aggregator_rejections_total',
    help: 'Refused requests, by method and reason (error code)',
    labelNames: ['method', 'reason'] as const,
    registers: [this.registry],
  });
  readonly commitSeconds = new Histogram({
    name: 'rlsa_aggregator_commit_seconds',
    help: 'Time to store one chunk: its record appended to its segment file and its index row committed (its acknowledgement waits for both)',
    buckets: [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1],
    registers: [this.registry],
  });
  readonly checkpointSeconds = new Histogram({
    name: 'rlsa_aggregator_wal_checkpoint_seconds',
    help: "Time of a checkpoint of the index database's WAL (index rows only; by the writer thread)",
    buckets: [0.01, 0.03, 0.1, 0.3, 1, 3, 10],
    registers: [this.registry],
  });
  readonly connectedNodes = new Gauge({
    name: 'rlsa_aggregator_connected_nodes',
    help: 'Nodes with an open upload stream',
    registers: [this.registry],
  });
  readonly storageFull = new Gauge({
    name: 'rlsa_aggregator_storage_full',
    help: '1 while chunks cannot be stored for lack of disk space (uploads get UNAVAILABLE; a probe write on a timer turns it back to 0)',
    registers: [this.registry],
  });
  readonly storageFailed = new Gauge({
    name: 'rlsa_aggregator_storage_failed',
    help: '1 once storing chunks failed for a reason other than space (uploads get INTERNAL until a restart)',
    registers: [this.registry],
  });
  readonly refusedChunks = new Counter({
    name: 'rlsa_aggregator_storage_refused_chunks_total',
    help: 'Chunks refused with UNAVAILABLE because the disk was full (none of them stored; the nodes resend them)',
    registers: [this.registry],
  });
  readonly damagedChunks = new Counter({
    name: 'rlsa_aggregator_damaged_chunks_total',
    help: 'Stored chunks found damaged (checksum or header mismatch, missing segment), each counted once',
    registers: [this.registry],
  });
  /** Where the damaged nodes are counted when scraped (`countDamagedNodes`); none until then. */
  private damagedNodeCount: (() => number) | undefined;
  readonly damagedNodes = new Gauge({
    name: 'rlsa_aggregator_damaged_nodes',
    help: 'Nodes with a damaged chunk: their rows are left out of the merge, their reads and uploads answer DATA_LOSS (a deleted run\'s leave the count)',
    registers: [this.registry],
    collect: () => {
      if (this.damagedNodeCount !== undefined) this.damagedNodes.set(this.damagedNodeCount());
    },
  });
  readonly mergedBytes = new Gauge({
    name: 'rlsa_aggregator_merged_state_bytes',
    help: 'Bytes of the in-memory merged sums of all runs',
    registers: [this.registry],
  });
  /** Where the run counts come from when scraped (`countRuns`); none until then. */
  private runCounts: (() => Readonly<Record<string, number>>) | undefined;
  readonly runs = new Gauge({
    name: 'rlsa_aggregator_runs',
    help: 'Runs by lifecycle state (open, closed, deleted)',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [state, count] of Object.entries(this.runCounts?.() ?? {})) this.runs.set({ state }, count);
    },
  });

  /** Where the merge's backlog is read when scraped (`countMergeBacklog`); none until then. */
  private mergeBacklog: (() => number) | undefined;
  readonly mergeBehindBytes = new Gauge({
    name: 'rlsa_aggregator_merge_behind_bytes',
    help: 'Payload bytes committed and not merged yet (the merge trails the commits; a read waits for them)',
    registers: [this.registry],
    collect: () => {
      if (this.mergeBacklog !== undefined) this.mergeBehindBytes.set(this.mergeBacklog());
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'rlsa_aggregator_' });
  }

  /** Counts the damaged nodes with `count` at every scrape. */
  countDamagedNodes(count: () => number): void {
    this.damagedNodeCount = count;
  }

  /** Reads the merge's backlog (payload bytes) with `bytes` at every scrape. */
  countMergeBacklog(bytes: () => number): void {
    this.mergeBacklog = bytes;
  }

  /** Counts the runs per state with `counts` at every scrape. */
  countRuns(counts: () => Readonly<Record<string, number>>): void {
    this.runCounts = counts;
  }

  /** Serves GET /metrics on host:port (0 = a free port); resolves with the bound port. */
  async serve(host: string, port: number): Promise<{ server: Server; port: number }> {
    const server = createServer((request, response) => {
      if (request.method === 'GET' && request.url === '/metrics') {
        this.registry.metrics().then(
          (text) => {
            response.writeHead(200, { 'content-type': this.registry.contentType });
            response.end(text);
          },
          (error: unknown) => {
            response.writeHead(500, { 'content-type': 'text/plain' });
            response.end(String(error));
          },
        );
        return;
      }
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found: GET /metrics\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return { server, port: (server.address() as AddressInfo).port };
  }
}
