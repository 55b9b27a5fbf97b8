import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AggregatorError } from './errors.ts';

/**
 * `normal` (default): WAL with synchronous=NORMAL. A commit is in the WAL file (the OS page
 * cache) before it is acknowledged, so it survives a crash or kill -9 of the process; a power
 * loss or OS crash may lose the last commits. `full`: synchronous=FULL, fsync on every commit,
 * which also survives power loss, at a throughput cost.
 */
export type Durability = 'normal' | 'full';

/** One stored chunk: the payload exactly as received (decoded again when read). */
export interface ChunkRow {
  runId: string;
  nodeId: string;
  space: number;
  seq: number;
  rows: number;
  cols: number;
  encoding: number;
  /** rows × uint32 LE */
  sampleIds: Buffer;
  data: Buffer;
  /** int8 only: rows × float32 LE */
  rowScales: Buffer | null;
  /** rows × int32 LE, or null when the node sent no labels */
  labels: Buffer | null;
  /** rows × uint8 (1 = counted); null = every row counted. A row is not counted when the node had sent that sample before with the same values. */
  counted: Buffer | null;
  countedRows: number;
}

export interface RunRow {
  runId: string;
  config: Buffer;
  createdAtMs: number;
}

export interface NodeRow {
  runId: string;
  nodeId: string;
  role: number;
  taskId: string;
  model: Buffer;
  finished: boolean;
  joinedAtMs: number;
}

const SCHEMA_VERSION = 1;

/**
 * The aggregator's durable state in `<data-dir>/aggregator.sqlite` (better-sqlite3, WAL):
 * runs, nodes, and every chunk as received (one row per chunk, payload as blobs).
 * All calls are synchronous; a method returning means its transaction committed.
 */
export class Storage {
  readonly path: string;
  private readonly db: Db;
  private readonly statements: {
    insertRun: Statement;
    listRuns: Statement;
    insertNode: Statement;
    updateNodeModel: Statement;
    listNodes: Statement;
    setFinished: Statement;
    insertChunk: Statement;
    getChunk: Statement;
    chunksAfter: Statement;
    allChunks: Statement;
  };

  constructor(dataDir: string, options: { durability?: Durability } = {}) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, 'aggregator.sqlite');
    try {
      this.db = new Database(this.path);
    } catch (error: unknown) {
      throw new AggregatorError('failed_precondition', `cannot open ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    const db = this.db;
    // Large pages suit chunk blobs (hundreds of KB each); effective only when the file is new.
    db.pragma('page_size = 65536');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    // Checkpoints run in a worker thread (CheckpointWorker); this automatic one, at 2 GB of WAL
    // (32,768 pages of 64 KB), is only the fallback should the worker fail. When the WAL restarts it is cut to 16 MB,
    // so its file size tells the worker how much was written since.
    db.pragma('wal_autocheckpoint = 32768');
    db.pragma('journal_size_limit = 16777216');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new AggregatorError('failed_precondition', `${this.path} has schema version ${version}, newer than this aggregator (${SCHEMA_VERSION})`);
    }
    db.exec(`
      CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY,
        config BLOB NOT NULL,
        created_at_ms INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS nodes (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        node_id TEXT NOT NULL,
        role INTEGER NOT NULL,
        task_id TEXT NOT NULL,
        model BLOB NOT NULL,
        finished INTEGER NOT NULL DEFAULT 0,
        joined_at_ms INTEGER NOT NULL,
        PRIMARY KEY (run_id, node_id)
      );
      CREATE TABLE IF NOT EXISTS chunks (
        run_id TEXT NOT NULL,
        node_id TEXT NOT NULL,
        space INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        rows INTEGER NOT NULL,
        cols INTEGER NOT NULL,
        encoding INTEGER NOT NULL,
        sample_ids BLOB NOT NULL,
        data BLOB NOT NULL,
        row_scales BLOB,
        labels BLOB,
        counted BLOB,
        counted_rows INTEGER NOT NULL,
        FOREIGN KEY (run_id, node_id) REFERENCES nodes(run_id, node_id)
      );
      CREATE UNIQUE INDEX IF NOT EXISTS chunks_key ON chunks(run_id, node_id, space, seq);
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
    this.statements = {
      insertRun: db.prepare('INSERT INTO runs (run_id, config, created_at_ms) VALUES (?, ?, ?)'),
      listRuns: db.prepare('SELECT run_id AS runId, config, created_at_ms AS createdAtMs FROM runs ORDER BY created_at_ms, run_id'),
      insertNode: db.prepare('INSERT INTO nodes (run_id, node_id, role, task_id, model, finished, joined_at_ms) VALUES (?, ?, ?, ?, ?, 0, ?)'),
      updateNodeModel: db.prepare('UPDATE nodes SET model = ? WHERE run_id = ? AND node_id = ?'),
      listNodes: db.prepare(
        'SELECT run_id AS runId, node_id AS nodeId, role, task_id AS taskId, model, finished, joined_at_ms AS joinedAtMs FROM nodes WHERE run_id = ? ORDER BY joined_at_ms, node_id',
      ),
      setFinished: db.prepare('UPDATE nodes SET finished = 1 WHERE run_id = ? AND node_id = ?'),
      insertChunk: db.prepare(
        `INSERT INTO chunks (run_id, node_id, space, seq, rows, cols, encoding, sample_ids, data, row_scales, labels, counted, counted_rows)
         VALUES (@runId, @nodeId, @space, @seq, @rows, @cols, @encoding, @sampleIds, @data, @rowScales, @labels, @counted, @countedRows)`,
      ),
      getChunk: db.prepare(`${CHUNK_COLUMNS} WHERE run_id = ? AND node_id = ? AND space = ? AND seq = ?`),
      chunksAfter: db.prepare(`${CHUNK_COLUMNS} WHERE run_id = ? AND node_id = ? AND space = ? AND seq > ? ORDER BY seq LIMIT ?`),
      allChunks: db.prepare(`${CHUNK_COLUMNS} ORDER BY run_id, node_id, space, seq`),
    };
  }

  insertRun(runId: string, config: Uint8Array, createdAtMs: number): void {
    this.statements.insertRun.run(runId, Buffer.from(config), createdAtMs);
  }

  listRuns(): RunRow[] {
    return this.statements.listRuns.all() as RunRow[];
  }

  insertNode(node: Omit<NodeRow, 'finished'>): void {
    this.statements.insertNode.run(node.runId, node.nodeId, node.role, node.taskId, node.model, node.joinedAtMs);
  }

  updateNodeModel(runId: string, nodeId: string, model: Buffer): void {
    this.statements.updateNodeModel.run(model, runId, nodeId);
  }

  listNodes(runId: string): NodeRow[] {
    return (this.statements.listNodes.all(runId) as (Omit<NodeRow, 'finished'> & { finished: number })[]).map((n) => ({ ...n, finished: n.finished !== 0 }));
  }

  setFinished(runId: string, nodeId: string): void {
    this.statements.setFinished.run(runId, nodeId);
  }

  /** Inserts one chunk in its own transaction; returning means it committed. */
  insertChunk(chunk: ChunkRow): void {
    this.statements.insertChunk.run(chunk);
  }

  getChunk(runId: string, nodeId: string, space: number, seq: number): ChunkRow | undefined {
    return this.statements.getChunk.get(runId, nodeId, space, seq) as ChunkRow | undefined;
  }

  /** Up to `limit` chunks with seq > afterSeq, in seq order (a page: callers may await between pages). */
  chunksAfter(runId: string, nodeId: string, space: number, afterSeq: number, limit: number): ChunkRow[] {
    return this.statements.chunksAfter.all(runId, nodeId, space, afterSeq, limit) as ChunkRow[];
  }

  /** Every chunk in (run, node, space, seq) order; synchronous use only (startup rebuild). */
  *allChunks(): IterableIterator<ChunkRow> {
    for (const row of this.statements.allChunks.iterate()) yield row as ChunkRow;
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

const CHUNK_COLUMNS = `SELECT run_id AS runId, node_id AS nodeId, space, seq, rows, cols, encoding, sample_ids AS sampleIds, data,
  row_scales AS rowScales, labels, counted, counted_rows AS countedRows FROM chunks`;
