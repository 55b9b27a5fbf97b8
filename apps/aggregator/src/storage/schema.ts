import type { Database } from 'better-sqlite3';

/**
 * The one description of `<data-dir>/aggregator.sqlite` that every connection shares (the
 * Storage on the event loop and the chunk writer's thread): the pragmas, the tables, and the SQL
 * of every statement. The database holds the metadata and the chunk index; every payload is in
 * a segment file (chunk-record.ts), written once.
 */

/**
 * `normal` (default): a chunk's record is written to its segment file and its index row
 * committed to the WAL (synchronous=NORMAL), both in the OS page cache, before it is
 * acknowledged: it survives a crash or kill -9 of the process; a power loss or OS crash may lose
 * the last commits (or leave their records unreadable: reported as damaged, never merged).
 * `full`: the segment file is fdatasync'ed before the index commit, which is fsynced too
 * (synchronous=FULL): it also survives power loss, at a throughput cost.
 */
export const DURABILITIES = ['normal', 'full'] as const;
export type Durability = (typeof DURABILITIES)[number];

/**
 * 1: payloads as blobs in the chunks table, rlsa.v1 data (migrated at start, see migrate-v1.ts);
 * 2: segment files and an index, rlsa.v1 data (development builds between two changes only: refused);
 * 3: segment files and an index, rlsa.v2 data (64-bit sample ids, v2 run configs).
 */
export const SCHEMA_VERSION = 3;

/** One stored chunk: the payload exactly as received (decoded again when read); ids as bytes, whatever their width. */
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
  /** rows × uint64 LE (the wire's id column as received): storage never reads them */
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
 * Sets the pragmas of a connection that writes. The database holds the index and the metadata
 * only (payloads are in segment files), so SQLite's own checkpoint, in the committing
 * connection, is cheap; the chunk writer also checkpoints the WAL itself once it passes
 * WAL_CHECKPOINT_BYTES (timed, for the metrics).
 */
export function applyWriterPragmas(db: Database, durability: Durability): void {
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
}

/** WAL size from which the chunk writer checkpoints it (TRUNCATE: the file starts again from zero). */
export const WAL_CHECKPOINT_BYTES = 16 * 1024 * 1024;

/** Waits for a lock this long before failing: the chunk writer waits behind a read. */
export const WRITER_BUSY_TIMEOUT_MS = 10_000;

/**
 * The runs, the nodes, the segment files, the chunk index and the runs' lifecycle states. `segments.path` is relative to the
 * data dir (`segments/<run id>/<segment id>.seg`); segment ids are never reused (AUTOINCREMENT),
 * so a file left behind by a deleted run never collides with a new one. A chunk row says where
 * its record is (`segment_id`, `offset`, `length`) and its CRC-32 (`checksum`, the record's
 * trailer).
 */
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
  CREATE TABLE IF NOT EXISTS segments (
    segment_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    path TEXT NOT NULL UNIQUE
  );
  CREATE TABLE IF NOT EXISTS chunks (
    run_id TEXT NOT NULL,
    node_id TEXT NOT NULL,
    space INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    cols INTEGER NOT NULL,
    encoding INTEGER NOT NULL,
    counted_rows INTEGER NOT NULL,
    segment_id INTEGER NOT NULL REFERENCES segments(segment_id),
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    checksum INTEGER NOT NULL,
    PRIMARY KEY (run_id, node_id, space, seq),
    FOREIGN KEY (run_id, node_id) REFERENCES nodes(run_id, node_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS chunks_by_segment ON chunks(segment_id, offset);
  CREATE TABLE IF NOT EXISTS run_states (
    run_id TEXT PRIMARY KEY,
    state INTEGER NOT NULL,
    changed_at_ms INTEGER NOT NULL,
    config BLOB NOT NULL
  );
  PRAGMA user_version = ${SCHEMA_VERSION};
`;

/**
 * A run that left the open state (no row: open). `state` is rlsa.v2.RunState (CLOSED, DELETED);
 * `config` is the run's, kept for a deleted run's status after its `runs` row is gone. Written
 * before the deletion it records, so a deletion cut short is finished at the next start.
 */
export interface RunStateRow {
  runId: string;
  state: number;
  changedAtMs: number;
  config: Buffer;
}

/** A chunk's fields that the index keeps besides the payload (and its record's header repeats). */
export type ChunkKeyAndShape = Pick<ChunkRow, 'runId' | 'nodeId' | 'space' | 'seq' | 'rows' | 'cols' | 'encoding' | 'countedRows'>;

/** Where a chunk's record is, and what it must hold: a row of the chunk index. */
export interface ChunkIndexRow extends ChunkKeyAndShape {
  segmentId: number;
  /** Relative to the data dir. */
  path: string;
  offset: number;
  length: number;
  checksum: number;
}

/** A segment file and how far the index references it (0: not at all). */
export interface SegmentRow {
  segmentId: number;
  runId: string;
  path: string;
  referencedBytes: number;
}

const INDEX_COLUMNS = `SELECT c.run_id AS runId, c.node_id AS nodeId, c.space, c.seq, c.rows, c.cols, c.encoding, c.counted_rows AS countedRows,
  c.segment_id AS segmentId, s.path, c.offset, c.length, c.checksum FROM chunks c JOIN segments s ON s.segment_id = c.segment_id`;

/** The SQL of every prepared statement (named parameters follow the row types' field names). */
export const SQL = {
  insertRun: 'INSERT INTO runs (run_id, config, created_at_ms) VALUES (?, ?, ?)',
  listRuns: 'SELECT run_id AS runId, config, created_at_ms AS createdAtMs FROM runs ORDER BY created_at_ms, run_id',
  insertNode: 'INSERT INTO nodes (run_id, node_id, role, task_id, model, finished, joined_at_ms) VALUES (?, ?, ?, ?, ?, 0, ?)',
  updateNodeModel: 'UPDATE nodes SET model = ? WHERE run_id = ? AND node_id = ?',
  listNodes:
    'SELECT run_id AS runId, node_id AS nodeId, role, task_id AS taskId, model, finished, joined_at_ms AS joinedAtMs FROM nodes WHERE run_id = ? ORDER BY joined_at_ms, node_id',
  setFinished: 'UPDATE nodes SET finished = 1 WHERE run_id = ? AND node_id = ?',
  insertSegment: 'INSERT INTO segments (segment_id, run_id, path) VALUES (@segmentId, @runId, @path)',
  nextSegmentId: "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'segments'), 0) + 1",
  lastSegment: `SELECT s.segment_id AS segmentId, s.run_id AS runId, s.path,
    coalesce((SELECT max(offset + length) FROM chunks c WHERE c.segment_id = s.segment_id), 0) AS referencedBytes
    FROM segments s WHERE s.run_id = ? ORDER BY s.segment_id DESC LIMIT 1`,
  listSegments: `SELECT s.segment_id AS segmentId, s.run_id AS runId, s.path,
    coalesce((SELECT max(offset + length) FROM chunks c WHERE c.segment_id = s.segment_id), 0) AS referencedBytes FROM segments s ORDER BY s.segment_id`,
  insertChunk: `INSERT INTO chunks (run_id, node_id, space, seq, rows, cols, encoding, counted_rows, segment_id, offset, length, checksum)
    VALUES (@runId, @nodeId, @space, @seq, @rows, @cols, @encoding, @countedRows, @segmentId, @offset, @length, @checksum)`,
  getChunk: `${INDEX_COLUMNS} WHERE c.run_id = ? AND c.node_id = ? AND c.space = ? AND c.seq = ?`,
  chunksAfter: `${INDEX_COLUMNS} WHERE c.run_id = ? AND c.node_id = ? AND c.space = ? AND c.seq > ? ORDER BY c.seq LIMIT ?`,
  nodeChunks: `${INDEX_COLUMNS} WHERE c.run_id = ? AND c.node_id = ? ORDER BY c.space, c.seq`,
  setRunState:
    'INSERT INTO run_states (run_id, state, changed_at_ms, config) VALUES (?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET state = excluded.state, changed_at_ms = excluded.changed_at_ms',
  listRunStates: 'SELECT run_id AS runId, state, changed_at_ms AS changedAtMs, config FROM run_states ORDER BY changed_at_ms, run_id',
  deleteRunChunks: 'DELETE FROM chunks WHERE run_id = ?',
  deleteRunSegments: 'DELETE FROM segments WHERE run_id = ?',
  deleteRunNodes: 'DELETE FROM nodes WHERE run_id = ?',
  deleteRun: 'DELETE FROM runs WHERE run_id = ?',
} as const;
