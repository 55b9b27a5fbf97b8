import type Database from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { OpsError } from './ops-error.ts';

/**
 * The aggregator's anchor sets (its `storage/anchor-sets.ts`): `<data-dir>/anchor-sets/<fingerprint>`
 * holds a set's canonical encoding and `<fingerprint>.summary` its summary; a set becomes visible by
 * a rename of the complete file, its summary last, so a set whose summary exists is whole, and a
 * stored set never changes. A backup carries them in `anchor_set_blocks` (name, offset, data), in
 * blocks (a set may be 1 GiB, past SQLite's largest blob); a restore writes them back.
 */
export const ANCHOR_SETS_DIR = 'anchor-sets';
export const ANCHOR_SET_BLOCKS_TABLE = 'anchor_set_blocks';

/** A stored set's file names: the fingerprint (64 lower-case hex digits), and it with `.summary`. */
const ANCHOR_SET_FILE = /^[0-9a-f]{64}(\.summary)?$/;
const BLOCK_BYTES = 4 * 1024 * 1024;

/** The whole sets of `dataDir` (those with their summary: partial uploads are left out): their files, by name. */
function storedSetFiles(dataDir: string): string[] {
  const dir = join(dataDir, ANCHOR_SETS_DIR);
  if (!existsSync(dir)) return [];
  const names = new Set(readdirSync(dir));
  return [...names].filter((name) => /^[0-9a-f]{64}$/.test(name) && names.has(`${name}.summary`)).flatMap((name) => [name, `${name}.summary`]).sort();
}

/** Copies every whole anchor set of `dataDir` into `copy` (a backup being made); returns their bytes. */
export function packAnchorSets(copy: Database.Database, dataDir: string): number {
  copy.exec(`CREATE TABLE ${ANCHOR_SET_BLOCKS_TABLE} (name TEXT NOT NULL, offset INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (name, offset))`);
  const insert = copy.prepare(`INSERT INTO ${ANCHOR_SET_BLOCKS_TABLE} (name, offset, data) VALUES (?, ?, ?)`);
  let bytes = 0;
  copy.transaction(() => {
    for (const name of storedSetFiles(dataDir)) {
      const fd = openSync(join(dataDir, ANCHOR_SETS_DIR, name), 'r');
      try {
        for (let offset = 0; ; ) {
          const block = Buffer.allocUnsafe(BLOCK_BYTES);
          const n = readSync(fd, block, 0, BLOCK_BYTES, offset);
          // An empty file still gets its one (empty) block, so that a restore writes it.
          if (n > 0 || offset === 0) insert.run(name, offset, block.subarray(0, n));
          bytes += n;
          if (n < BLOCK_BYTES) break;
          offset += n;
        }
      } finally {
        closeSync(fd);
      }
    }
  })();
  return bytes;
}

/**
 * Writes the anchor sets a backup holds into `dir` (the data dir's `anchor-sets/` or a staging
 * folder standing for it), each file synced, then drops the blocks from the restored database.
 * Returns the bytes written (0 for a backup without anchor sets).
 */
export function unpackAnchorSets(db: Database.Database, dir: string): number {
  if (db.prepare('SELECT count(*) FROM sqlite_schema WHERE name = ?').pluck().get(ANCHOR_SET_BLOCKS_TABLE) !== 1) return 0;
  const names = db.prepare(`SELECT DISTINCT name FROM ${ANCHOR_SET_BLOCKS_TABLE} ORDER BY name`).pluck().all() as string[];
  const blocks = db.prepare(`SELECT offset, data FROM ${ANCHOR_SET_BLOCKS_TABLE} WHERE name = ? ORDER BY offset`);
  let bytes = 0;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of names) {
    if (!ANCHOR_SET_FILE.test(name)) throw new OpsError('invalid_file', `the backup names an anchor-set file ${JSON.stringify(name.slice(0, 80))} that is not <sha256>[.summary]`);
    const fd = openSync(join(dir, name), 'w', 0o600);
    try {
      for (const block of blocks.iterate(name) as IterableIterator<{ offset: number; data: Buffer }>) {
        writeSync(fd, block.data, 0, block.data.length, block.offset);
        bytes += block.data.length;
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  db.exec(`DROP TABLE ${ANCHOR_SET_BLOCKS_TABLE}`);
  return bytes;
}
