import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { join } from 'node:path';
import { ChunkDamageError } from '../storage/chunk-damage.ts';
import { SQL } from '../storage/schema.ts';
import type { ChunkIndexRow, ChunkRow } from '../storage/schema.ts';
import { DATABASE_FILE } from '../storage/storage.ts';
import { SegmentReader } from '../storage/segment-reader.ts';
import type { ChunkPages } from './node-space.ts';

/**
 * A node's chunks read from a data dir on a read thread: a read-only SQLite connection (WAL: it
 * sees every committed index row, and never blocks the writer) and its own segment reader, each
 * record checked as on the event loop. A damaged chunk is ChunkDamageError (DATA_LOSS); the
 * thread reports it, and the event loop marks the node.
 */
export class ReadOnlyChunkPages implements ChunkPages {
  private readonly db: Db;
  private readonly chunksAfterStatement: Statement;
  private readonly reader: SegmentReader;

  constructor(dataDir: string) {
    this.db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
    this.chunksAfterStatement = this.db.prepare(SQL.chunksAfter);
    this.reader = new SegmentReader(dataDir);
  }

  chunksAfter(runId: string, nodeId: string, space: number, afterSeq: number, limit: number): ChunkRow[] {
    return (this.chunksAfterStatement.all(runId, nodeId, space, afterSeq, limit) as ChunkIndexRow[]).map((index) => {
      const outcome = this.reader.read(index);
      if ('damage' in outcome) throw new ChunkDamageError(outcome.damage);
      return outcome.row;
    });
  }

  close(): void {
    this.reader.close();
    if (this.db.open) this.db.close();
  }
}
