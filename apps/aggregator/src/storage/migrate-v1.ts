import type { Database } from 'better-sqlite3';
import { AggregatorError } from '../errors.ts';
import { encodeRunConfig } from './records.ts';
import { CREATE_TABLES, SQL } from './schema.ts';
import type { ChunkRow } from './schema.ts';
import { SegmentAppender } from './segment-appender.ts';
import type { Placement } from './segment-appender.ts';
import { isStorageFull } from './storage-full.ts';
import { runConfigFromV1, widenV1SampleIds } from './v1-records.ts';

/** Every chunk of a version-1 database, payload blobs included, in (run, node, space, seq) order. */
const V1_CHUNKS = `SELECT run_id AS runId, node_id AS nodeId, space, seq, rows, cols, encoding, sample_ids AS sampleIds, data,
  row_scales AS rowScales, labels, counted, counted_rows AS countedRows FROM chunks ORDER BY run_id, node_id, space, seq`;

/**
 * Moves a data dir of the previous layout (schema 1: payloads as blobs in `chunks`, rlsa.v1 data)
 * to segment files and an index with rlsa.v2 data (ids widened to 64 bits, run configs
 * rewritten), at start, before anything else opens it: every chunk's record is appended
 * to its run's segment and synced (whatever the durability: it is done once, and the old copy
 * goes away after it), then one transaction replaces the old table by the index
 * (a crash before that commit leaves the old layout whole; the files written are unreferenced
 * and removed by the start-up tidy), and VACUUM gives the blobs' space back to the file system.
 * It needs free space for a copy of the payloads; without it, FAILED_PRECONDITION and nothing
 * changes. (Migrating rather than refusing: a data dir holds what nodes uploaded and were
 * acknowledged, and a backup made before this version restores into schema 1.)
 */
export function migrateFromV1(db: Database, dataDir: string): { chunks: number; bytes: number } {
  const appender = new SegmentAppender(dataDir, { lastSegment: () => undefined, nextSegmentId: () => 1 });
  const rows: { row: ChunkRow; placement: Placement }[] = [];
  let bytes = 0;
  try {
    for (const stored of db.prepare(V1_CHUNKS).iterate()) {
      // rlsa.v1 ids were 32-bit: the records hold them as rlsa.v2's 64-bit ids.
      const row = { ...(stored as ChunkRow), sampleIds: widenV1SampleIds((stored as ChunkRow).sampleIds) };
      const placement = appender.append(row);
      bytes += placement.length;
      // The index row needs no payload: dropping it lets the blobs be collected while the loop goes on.
      rows.push({ row: { ...row, sampleIds: EMPTY, data: EMPTY, rowScales: null, labels: null, counted: null }, placement });
    }
    appender.sync();
    db.transaction(() => {
      db.exec('ALTER TABLE chunks RENAME TO chunks_v1; DROP INDEX IF EXISTS chunks_key;');
      db.exec(CREATE_TABLES);
      const insertSegment = db.prepare(SQL.insertSegment);
      for (const segment of appender.newSegments) insertSegment.run(segment);
      const insertChunk = db.prepare(SQL.insertChunk);
      for (const { row, placement } of rows) {
        const { runId, nodeId, space, seq, cols, encoding, countedRows } = row;
        insertChunk.run({ runId, nodeId, space, seq, rows: row.rows, cols, encoding, countedRows, ...placement });
      }
      db.exec('DROP TABLE chunks_v1;');
      convertRunConfigs(db);
    })();
    appender.settle();
  } catch (error: unknown) {
    appender.rollback();
    if (isStorageFull(error)) {
      throw new AggregatorError('failed_precondition', `migrating ${dataDir} to segment files needs about ${bytes} bytes more than are free: free space and start again`, { cause: error });
    }
    throw error;
  } finally {
    appender.closeAll();
  }
  db.exec('VACUUM');
  return { chunks: rows.length, bytes };
}

const EMPTY = Buffer.alloc(0);

/** The runs' rlsa.v1.RunConfig records rewritten as rlsa.v2 (in the migration's transaction). */
function convertRunConfigs(db: Database): void {
  const update = db.prepare('UPDATE runs SET config = ? WHERE run_id = ?');
  for (const { runId, config } of db.prepare('SELECT run_id AS runId, config FROM runs').all() as { runId: string; config: Buffer }[]) {
    update.run(encodeRunConfig(runConfigFromV1(config)), runId);
  }
}
