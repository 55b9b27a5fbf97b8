import type { Database } from 'better-sqlite3';

/**
 * The one description of `<data-dir>/aggregator.sqlite` that every connection shares (the
 * Storage on the event loop, the chunk writer's and the checkpointer's threads): the pragmas,
 * the tables, and the SQL of every statement.
 */

/**
 * `normal` (default): WAL with synchronous=NORMAL. A commit is in the WAL file (the OS page
 * cache) before it is acknowledged, so it survives a crash or kill -9 of the process; a power
 * loss or OS crash may lose the last commits. `full`: synchronous=FULL, fsync on every commit,
 * which also survives power loss, at a throughput cost.
 */
export const DURABILITIES = ['normal', 'full'] as const;
export type Durability = (typeof DURABILITIES)[number];

/** 2: rlsa.v2 (64-bit sample ids, v2 run configs); 1 (rlsa.v1) is refused, not migrated. */
export const SCHEMA_VERSION = 2;

/** One stored chunk: the payload exactly as received (decoded again when read). */
export interface ChunkRow {
  runId: string;
  nodeId: string;
  /** SpaceKind (1 relative, 2 absolute) */
  space: number;
  seq: number;
  rows: number;
  cols: number;
  /** Encoding */
  encoding: number;
  /** rows × uint64 LE (the wire's id column as received) */
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
  /** rlsa.v2.RunConfig, binary */
  config: Buffer;
  createdAtMs: number;
}

export interface NodeRow {
  runId: string;
  nodeId: string;
  /** NodeRole */
  role: number;
  taskId: string;
  /** rlsa.v2.ModelCard, binary */
  model: Buffer;
  finished: boolean;
  joinedAtMs: number;
}

/**
 * Sets the pragmas of a connection that writes. Large pages suit chunk blobs (hundreds of KB
 * each; effective only when the file is new). Checkpoints run in a worker thread
 * (CheckpointWorker); the automatic one, at 2 GB of WAL (32,768 pages of 64 KB), is only the
 * fallback should that worker fail. When the WAL restarts it is cut to 16 MB, so its file size
 * tells the checkpointer how much was written since.
 */
export function applyWriterPragmas(db: Database, durability: Durability): void {
  db.pragma('page_size = 65536');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('wal_autocheckpoint = 32768');
  db.pragma('journal_size_limit = 16777216');
  db.pragma('foreign_keys = ON');
}

/** Waits for a lock this long before failing: the chunk writer waits behind a checkpoint or a read. */
export const WRITER_BUSY_TIMEOUT_MS = 10_000;
/** The checkpointer waits this long (its PASSIVE checkpoint never blocks the writer). */
export const CHECKPOINTER_BUSY_TIMEOUT_MS = 5_000;

export const CREATE_TABLES = `
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
`;

const CHUNK_COLUMNS = `SELECT run_id AS runId, node_id AS nodeId, space, seq, rows, cols, encoding, sample_ids AS sampleIds, data,
  row_scales AS rowScales, labels, counted, counted_rows AS countedRows FROM chunks`;

/** The SQL of every prepared statement (named parameters follow ChunkRow's field names). */
export const SQL = {
  insertRun: 'INSERT INTO runs (run_id, config, created_at_ms) VALUES (?, ?, ?)',
  listRuns: 'SELECT run_id AS runId, config, created_at_ms AS createdAtMs FROM runs ORDER BY created_at_ms, run_id',
  insertNode: 'INSERT INTO nodes (run_id, node_id, role, task_id, model, finished, joined_at_ms) VALUES (?, ?, ?, ?, ?, 0, ?)',
  updateNodeModel: 'UPDATE nodes SET model = ? WHERE run_id = ? AND node_id = ?',
  listNodes:
    'SELECT run_id AS runId, node_id AS nodeId, role, task_id AS taskId, model, finished, joined_at_ms AS joinedAtMs FROM nodes WHERE run_id = ? ORDER BY joined_at_ms, node_id',
  setFinished: 'UPDATE nodes SET finished = 1 WHERE run_id = ? AND node_id = ?',
  insertChunk: `INSERT INTO chunks (run_id, node_id, space, seq, rows, cols, encoding, sample_ids, data, row_scales, labels, counted, counted_rows)
    VALUES (@runId, @nodeId, @space, @seq, @rows, @cols, @encoding, @sampleIds, @data, @rowScales, @labels, @counted, @countedRows)`,
  getChunk: `${CHUNK_COLUMNS} WHERE run_id = ? AND node_id = ? AND space = ? AND seq = ?`,
  chunksAfter: `${CHUNK_COLUMNS} WHERE run_id = ? AND node_id = ? AND space = ? AND seq > ? ORDER BY seq LIMIT ?`,
  allChunks: `${CHUNK_COLUMNS} ORDER BY run_id, node_id, space, seq`,
} as const;
