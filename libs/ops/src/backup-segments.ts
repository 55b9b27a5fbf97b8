import type Database from 'better-sqlite3';
import { closeSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { crc32 } from 'node:zlib';
import { OpsError } from './ops-error.ts';

/**
 * The aggregator's data dir since schema 2 (see the aggregator's `storage/schema.ts` and
 * `storage/chunk-record.ts`): `aggregator.sqlite` holds a `segments` table (segment_id, run_id,
 * path relative to the data dir) and a chunk index (`chunks`: run_id, node_id, space, seq,
 * segment_id, offset, length, checksum); each chunk is a record of `length` bytes at `offset`
 * in its segment file, whose last 4 bytes are the CRC-32 of the bytes before them, equal to
 * `checksum`. A backup is one SQLite file: the database, plus the referenced bytes of every
 * segment in `segment_blocks` (packed here, unpacked by a restore).
 */
export const SEGMENT_BLOCKS_TABLE = 'segment_blocks';

/** What a segment's path may be: `segments/<run id>/<number>.seg` (run ids as the aggregator's ID_PATTERN). */
const SEGMENT_PATH = /^segments\/[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\/\d+\.seg$/;

/** A segment read into blocks of about this size. */
const BLOCK_BYTES = 4 * 1024 * 1024;

/** A chunk whose record did not match its checksum when it was backed up (copied as it was). */
export interface DamagedChunk {
  runId: string;
  nodeId: string;
  space: number;
  seq: number;
}

interface IndexedRecord extends DamagedChunk {
  segmentId: number;
  path: string;
  offset: number;
  length: number;
  checksum: number;
}

/** Whether a database has the segment layout (schema 2 and later). */
export function hasSegments(db: Database.Database): boolean {
  return db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'segments'").pluck().get() === 1;
}

/**
 * Copies into `copy` (a snapshot of the index) the records it references, read from the live
 * segment files of `dataDir`, checking each against its checksum. Segments are only appended to
 * and a record is written before its index row commits, so every record the snapshot references
 * is complete in the live files, whatever was written since. A run deleted meanwhile (its file
 * gone) fails the backup: run it again.
 */
export function packSegments(copy: Database.Database, dataDir: string): { bytes: number; damaged: DamagedChunk[] } {
  copy.exec(`CREATE TABLE ${SEGMENT_BLOCKS_TABLE} (segment_id INTEGER NOT NULL, offset INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (segment_id, offset))`);
  const insert = copy.prepare(`INSERT INTO ${SEGMENT_BLOCKS_TABLE} (segment_id, offset, data) VALUES (?, ?, ?)`);
  const segmentIds = copy.prepare('SELECT segment_id FROM segments ORDER BY segment_id').pluck().all() as number[];
  // One segment's index rows at a time (a statement may not stay open while the blocks are inserted).
  const recordsOf = copy.prepare(
    `SELECT c.run_id AS runId, c.node_id AS nodeId, c.space, c.seq, c.segment_id AS segmentId, s.path, c.offset, c.length, c.checksum
     FROM chunks c JOIN segments s ON s.segment_id = c.segment_id WHERE c.segment_id = ? ORDER BY c.offset`,
  );
  const damaged: DamagedChunk[] = [];
  let bytes = 0;
  copy.transaction(() => {
    for (const segmentId of segmentIds) {
      const records = recordsOf.all(segmentId) as IndexedRecord[];
      if (records.length > 0) bytes += packSegment(records, dataDir, damaged, (offset, data) => insert.run(segmentId, offset, data));
    }
  })();
  return { bytes, damaged };
}

/** Copies one segment's records (in offset order) as blocks of contiguous records; returns their bytes. */
function packSegment(records: IndexedRecord[], dataDir: string, damaged: DamagedChunk[], insert: (offset: number, data: Buffer) => void): number {
  const fd = openSegment(dataDir, records[0] as IndexedRecord);
  let bytes = 0;
  let block: { offset: number; parts: Buffer[]; bytes: number } | undefined;
  const flush = (): void => {
    if (block !== undefined) insert(block.offset, Buffer.concat(block.parts));
    block = undefined;
  };
  try {
    for (const record of records) {
      const data = readRecord(fd, record);
      if (crc32(data.subarray(0, record.length - 4)) !== record.checksum) damaged.push({ runId: record.runId, nodeId: record.nodeId, space: record.space, seq: record.seq });
      if (block === undefined || block.offset + block.bytes !== record.offset || block.bytes >= BLOCK_BYTES) {
        flush();
        block = { offset: record.offset, parts: [], bytes: 0 };
      }
      block.parts.push(data);
      block.bytes += record.length;
      bytes += record.length;
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return bytes;
}

function openSegment(dataDir: string, record: IndexedRecord): number {
  try {
    return openSync(join(dataDir, record.path), 'r');
  } catch (error: unknown) {
    throw new OpsError('backup_failed', `segment ${record.path} of run ${record.runId} cannot be read (${(error as Error).message}): was the run deleted during the backup? Run it again`, { cause: error });
  }
}

function readRecord(fd: number, record: IndexedRecord): Buffer {
  const out = Buffer.alloc(record.length);
  let read = 0;
  while (read < record.length) {
    const n = readSync(fd, out, read, record.length - read, record.offset + read);
    if (n === 0) throw new OpsError('backup_failed', `segment ${record.path} ends before the record at ${record.offset} (chunk ${record.seq} of node ${record.nodeId} in run ${record.runId})`);
    read += n;
  }
  return out;
}

/**
 * Writes the segment files a backup holds under `segmentsDir` (the `segments/` folder of the
 * data dir being restored, or a staging folder standing for it), each block at its offset,
 * synced; then drops the blocks from the restored database. Returns the files written.
 */
export function unpackSegments(db: Database.Database, segmentsDir: string): string[] {
  const segments = db.prepare('SELECT segment_id AS segmentId, path FROM segments ORDER BY segment_id').all() as { segmentId: number; path: string }[];
  const blocks = db.prepare(`SELECT offset, data FROM ${SEGMENT_BLOCKS_TABLE} WHERE segment_id = ? ORDER BY offset`);
  const files: string[] = [];
  for (const segment of segments) {
    // Paths are `segments/<run>/<id>.seg`: the same place under the folder being restored (and nowhere else).
    if (!SEGMENT_PATH.test(segment.path)) throw new OpsError('invalid_file', `the backup names a segment file ${JSON.stringify(segment.path)} outside segments/<run>/`);
    const file = join(segmentsDir, relative('segments', segment.path));
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const fd = openSync(file, 'w', 0o600);
    try {
      for (const block of blocks.iterate(segment.segmentId) as IterableIterator<{ offset: number; data: Buffer }>) writeSync(fd, block.data, 0, block.data.length, block.offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    files.push(file);
  }
  db.exec(`DROP TABLE ${SEGMENT_BLOCKS_TABLE}`);
  return files;
}
