import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AggregatorError } from '../errors.ts';
import { ChunkDamageError, DamagedNodes } from './chunk-damage.ts';
import type { ChunkDamage } from './chunk-damage.ts';
import { migrateFromV1 } from './migrate-v1.ts';
import { CREATE_TABLES, SCHEMA_VERSION, SQL, applyWriterPragmas } from './schema.ts';
import type { ChunkIndexRow, ChunkRow, Durability, NodeRow, RunRow, RunStateRow, SegmentRow } from './schema.ts';
import { listFiles, runSegmentsDir, tidySegments } from './segment-files.ts';
import type { SegmentTidy } from './segment-files.ts';
import { SegmentReader } from './segment-reader.ts';
import type { ReadOutcome } from './segment-reader.ts';
import { isStorageFull } from './storage-full.ts';

type StatementName =
  | 'insertRun'
  | 'listRuns'
  | 'insertNode'
  | 'updateNodeModel'
  | 'listNodes'
  | 'setFinished'
  | 'getChunk'
  | 'chunksAfter'
  | 'nodeChunks'
  | 'listSegments'
  | 'setRunState'
  | 'listRunStates';

/** The database file inside the data dir. */
export const DATABASE_FILE = 'aggregator.sqlite';

export interface StorageOptions {
  durability?: Durability;
  /** A damaged chunk found by a read (once per chunk): for the log and the metrics. */
  onDamage?: (damage: ChunkDamage) => void;
}

/**
 * The aggregator's durable state in a data dir: `aggregator.sqlite` (better-sqlite3, WAL) holds
 * runs, nodes, segments and the chunk index; `segments/<run>/<id>.seg` hold the chunks' records
 * (written by the ChunkWriter's thread). Every read of a chunk checks its record; a damaged one
 * marks its node (`damage`) and answers DATA_LOSS. All calls are synchronous; a write method
 * returning means its transaction committed; a write that finds the disk full answers
 * UNAVAILABLE and tells `onFull`.
 */
export class Storage {
  readonly path: string;
  readonly damage: DamagedNodes;
  /** What the start-up tidy of the segment files did (for the log). */
  readonly tidied: SegmentTidy;
  /** What a migration from the previous layout did at start (for the log), if one ran. */
  readonly migrated: { chunks: number; bytes: number } | undefined;
  /** Told when a metadata write finds the disk full (the chunk writer starts probing). */
  onFull: (reason: string) => void = () => {};
  private readonly db: Db;
  private readonly statements: Record<StatementName, Statement>;
  private readonly reader: SegmentReader;

  constructor(
    readonly dataDir: string,
    options: StorageOptions = {},
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, DATABASE_FILE);
    try {
      this.db = new Database(this.path);
    } catch (error: unknown) {
      throw new AggregatorError('failed_precondition', `cannot open ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    const durability = options.durability ?? 'normal';
    applyWriterPragmas(this.db, durability);
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new AggregatorError('failed_precondition', `${this.path} has schema version ${version}, newer than this aggregator (${SCHEMA_VERSION})`);
    }
    if (version === 2) {
      throw new AggregatorError('failed_precondition', `${this.path} was written by a development build (segment files with rlsa.v1 data, schema 2): give a new --data-dir`);
    }
    this.migrated = version === 1 ? migrateFromV1(this.db, dataDir) : undefined;
    this.db.exec(CREATE_TABLES);
    const prepare = (name: StatementName): Statement => this.db.prepare(SQL[name]);
    this.statements = {
      insertRun: prepare('insertRun'),
      listRuns: prepare('listRuns'),
      insertNode: prepare('insertNode'),
      updateNodeModel: prepare('updateNodeModel'),
      listNodes: prepare('listNodes'),
      setFinished: prepare('setFinished'),
      getChunk: prepare('getChunk'),
      chunksAfter: prepare('chunksAfter'),
      nodeChunks: prepare('nodeChunks'),
      listSegments: prepare('listSegments'),
      setRunState: prepare('setRunState'),
      listRunStates: prepare('listRunStates'),
    };
    this.reader = new SegmentReader(dataDir);
    this.damage = new DamagedNodes(options.onDamage);
    this.tidied = tidySegments(dataDir, this.statements.listSegments.all() as SegmentRow[]);
  }

  insertRun(runId: string, config: Uint8Array, createdAtMs: number): void {
    this.write(() => this.statements.insertRun.run(runId, Buffer.from(config), createdAtMs));
  }

  listRuns(): RunRow[] {
    return this.statements.listRuns.all() as RunRow[];
  }

  /** Records that a run left the open state (rlsa.v2.RunState: closed, deleted), with its config. */
  setRunState(runId: string, state: number, changedAtMs: number, config: Uint8Array): void {
    this.write(() => this.statements.setRunState.run(runId, state, changedAtMs, Buffer.from(config)));
  }

  /** Every run that left the open state. */
  listRunStates(): RunStateRow[] {
    return this.statements.listRunStates.all() as RunStateRow[];
  }

  insertNode(node: Omit<NodeRow, 'finished'>): void {
    this.write(() => this.statements.insertNode.run(node.runId, node.nodeId, node.role, node.taskId, node.model, node.joinedAtMs));
  }

  updateNodeModel(runId: string, nodeId: string, model: Buffer): void {
    this.write(() => this.statements.updateNodeModel.run(model, runId, nodeId));
  }

  listNodes(runId: string): NodeRow[] {
    return (this.statements.listNodes.all(runId) as (Omit<NodeRow, 'finished'> & { finished: number })[]).map((n) => ({ ...n, finished: n.finished !== 0 }));
  }

  setFinished(runId: string, nodeId: string): void {
    this.write(() => this.statements.setFinished.run(runId, nodeId));
  }

  /** The chunk stored for a seq (undefined: none); DATA_LOSS when it is damaged. */
  getChunk(runId: string, nodeId: string, space: number, seq: number): ChunkRow | undefined {
    const index = this.statements.getChunk.get(runId, nodeId, space, seq) as ChunkIndexRow | undefined;
    return index === undefined ? undefined : this.chunk(index);
  }

  /** Up to `limit` chunks with seq > afterSeq, in seq order (a page: callers may await between pages); DATA_LOSS at a damaged one. */
  chunksAfter(runId: string, nodeId: string, space: number, afterSeq: number, limit: number): ChunkRow[] {
    return (this.statements.chunksAfter.all(runId, nodeId, space, afterSeq, limit) as ChunkIndexRow[]).map((index) => this.chunk(index));
  }

  /** A node's index rows in (space, seq) order, records not read (the rebuild checks, then reads them). */
  *nodeChunkIndex(runId: string, nodeId: string): IterableIterator<ChunkIndexRow> {
    for (const row of this.statements.nodeChunks.iterate(runId, nodeId)) yield row as ChunkIndexRow;
  }

  /** Reads one chunk by its index row; a damaged one is marked and returned as such (never thrown). */
  readChunk(index: ChunkIndexRow): ReadOutcome {
    const outcome = this.reader.read(index);
    if ('damage' in outcome) this.damage.mark(outcome.damage);
    return outcome;
  }

  /**
   * Deletes a run: its chunk index, segments, nodes and run rows in one transaction, then its
   * segment files. Returns the bytes of the files removed. The writer thread must have closed
   * the run's segment first (`ChunkWriter.closeRun`), or the space stays taken until it does.
   */
  deleteRun(runId: string): number {
    this.write(() =>
      this.db.transaction(() => {
        for (const sql of [SQL.deleteRunChunks, SQL.deleteRunSegments, SQL.deleteRunNodes, SQL.deleteRun]) this.db.prepare(sql).run(runId);
      })(),
    );
    this.reader.closeRun(runId);
    this.damage.forgetRun(runId);
    const dir = join(this.dataDir, runSegmentsDir(runId));
    const freed = listFiles(dir).reduce((sum, file) => sum + statSync(file).size, 0);
    rmSync(dir, { recursive: true, force: true });
    return freed;
  }

  close(): void {
    this.reader.close();
    if (this.db.open) this.db.close();
  }

  private chunk(index: ChunkIndexRow): ChunkRow {
    const outcome = this.readChunk(index);
    if ('damage' in outcome) throw new ChunkDamageError(outcome.damage);
    return outcome.row;
  }

  /** Runs a metadata write; a full disk is UNAVAILABLE (and told to `onFull`), anything else as thrown. */
  private write<T>(run: () => T): T {
    try {
      return run();
    } catch (error: unknown) {
      if (!isStorageFull(error)) throw error;
      const reason = (error as Error).message;
      this.onFull(reason);
      throw new AggregatorError('unavailable', `storage full (${reason}): nothing was stored; retry later`, { cause: error });
    }
  }
}
