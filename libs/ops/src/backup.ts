import Database from 'better-sqlite3';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ANCHOR_SETS_DIR, packAnchorSets, unpackAnchorSets } from './backup-anchor-sets.ts';
import { hasSegments, packSegments, unpackSegments } from './backup-segments.ts';
import type { DamagedChunk } from './backup-segments.ts';
import { OpsError } from './ops-error.ts';
import { PRIVATE_MODE, syncDirectory } from './private-file.ts';

/** The aggregator's database inside the data dir (interfaces.md): metadata and the chunk index, in WAL mode. */
export const DATABASE_FILE = 'aggregator.sqlite';
/** The aggregator's segment files (the chunks' payloads), inside the data dir. */
export const SEGMENTS_DIR = 'segments';

/** What a backup or a restore holds: enough for an operator to see it is the data they expect. */
export interface DatabaseSummary {
  readonly path: string;
  readonly bytes: number;
  readonly pageCount: number;
  /** Row count of every table (`sqlite_%` tables excluded). */
  readonly tables: Readonly<Record<string, number>>;
  /** Bytes of chunk records copied from (backup) or written to (restore) segment files; 0 for a database without segments. */
  readonly segmentBytes?: number;
  /** Chunks whose record failed its checksum during the backup (copied as they were; the restored aggregator reports them too). */
  readonly damagedChunks?: readonly DamagedChunk[];
  /** Bytes of the anchor sets' files (encodings and summaries) copied (backup) or written (restore). */
  readonly anchorSetBytes?: number;
}

/**
 * Backs up an aggregator's data dir into one file while it keeps running: `aggregator.sqlite` with
 * SQLite's online backup API, then the chunk records that copy references, read from the segment
 * files into the copy (`segment_blocks`) and checked against their checksums. The copy is one
 * consistent snapshot: all pages are transferred in a single backup step, i.e. inside one read
 * transaction, which in WAL mode never blocks the aggregator's writers (with the default 100-page
 * steps, every commit by the aggregator would restart the copy, and a busy aggregator could keep
 * it from ever finishing); segments are append-only and a record is written before its index row
 * commits, so every record the snapshot references is there. Every chunk the aggregator
 * acknowledged before the backup started is in the copy, since an acknowledgement follows its commit.
 * The anchor sets stored when the copy is made go in too (`anchor_set_blocks`): a set is whole once
 * visible and never changes, and the runs that name one can only have been created after it was stored.
 *
 * The copy is written next to `out`, checked (`PRAGMA integrity_check`), switched to a rollback
 * journal so it is one self-contained file, made private (0600) and renamed into place.
 */
export async function backupDatabase(options: { dataDir: string; out: string; force?: boolean }): Promise<DatabaseSummary> {
  const source = join(options.dataDir, DATABASE_FILE);
  if (!existsSync(source)) throw new OpsError('not_found', `no ${DATABASE_FILE} in ${options.dataDir}: is that the aggregator's --data-dir?`);
  const out = resolve(options.out);
  if (existsSync(out) && options.force !== true) throw new OpsError('already_exists', `${out} exists; pass --force to overwrite it`);
  if (!existsSync(dirname(out))) throw new OpsError('not_found', `the directory of ${out} does not exist`);
  const partial = join(dirname(out), `.${basename(out)}.partial-${process.pid}`);
  rmSync(partial, { force: true });
  await snapshotDatabase(source, partial);
  let packed: ReturnType<typeof packSegments> | undefined;
  let anchorSetBytes = 0;
  try {
    const copy = new Database(partial);
    try {
      if (hasSegments(copy)) packed = packSegments(copy, options.dataDir);
      anchorSetBytes = packAnchorSets(copy, options.dataDir);
      copy.pragma('journal_mode = DELETE');
      assertIntact(copy, partial);
    } finally {
      copy.close();
    }
    chmodSync(partial, PRIVATE_MODE);
    renameSync(partial, out);
    syncDirectory(dirname(out));
  } catch (error: unknown) {
    rmSync(partial, { force: true });
    throw error;
  }
  return { ...summarizeDatabase(out), ...(packed === undefined ? {} : { segmentBytes: packed.bytes, damagedChunks: packed.damaged }), anchorSetBytes };
}

/** The online backup of the live database into `partial`, in one step (one read transaction). */
async function snapshotDatabase(source: string, partial: string): Promise<void> {
  // Read-only: the backup never writes to the live database. (SQLite may create its -wal and -shm when
  // the aggregator is stopped; run as root, it gives them to the database file's owner itself.)
  let db: Database.Database;
  try {
    db = new Database(source, { readonly: true, fileMustExist: true });
  } catch (error: unknown) {
    throw new OpsError('backup_failed', `cannot open ${source}: ${(error as Error).message}`, { cause: error });
  }
  try {
    db.pragma('busy_timeout = 10000');
    await db.backup(partial, { progress: () => 0x7fffffff });
  } catch (error: unknown) {
    rmSync(partial, { force: true });
    throw new OpsError('backup_failed', `online backup of ${source} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    db.close();
  }
}

/**
 * Restores a backup into `dataDir` for an aggregator that is **stopped**: checks the backup, writes
 * its segment files (when it has any) and its database, each through a temporary name and a
 * rename, and removes the old database's `-wal` and `-shm`, which belong to the replaced file and
 * would corrupt the restored one. Replacing an existing database needs `force`; the previous ones
 * are kept as `aggregator.sqlite.before-restore` and `segments.before-restore`. Run as root, the
 * restored files get the owner of the data dir (the aggregator's user). A backup made before the
 * segment layout restores as it was; the aggregator migrates it when it starts.
 */
export function restoreDatabase(options: { from: string; dataDir: string; force?: boolean }): DatabaseSummary {
  checkBackupFile(options.from);
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const target = join(options.dataDir, DATABASE_FILE);
  const segments = join(options.dataDir, SEGMENTS_DIR);
  const anchorSets = join(options.dataDir, ANCHOR_SETS_DIR);
  if (existsSync(target)) {
    if (options.force !== true) throw new OpsError('already_exists', `${target} exists; stop the aggregator and pass --force to replace it`);
    renameSync(target, `${target}.before-restore`);
  }
  for (const dir of [segments, anchorSets]) {
    if (!existsSync(dir)) continue;
    rmSync(`${dir}.before-restore`, { recursive: true, force: true });
    renameSync(dir, `${dir}.before-restore`);
  }
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${target}${suffix}`, { force: true });
  const partial = `${target}.restore-${process.pid}`;
  const staging = { segments: `${segments}.restore-${process.pid}`, anchorSets: `${anchorSets}.restore-${process.pid}` };
  let unpacked = { segmentBytes: 0, anchorSetBytes: 0 };
  try {
    copyFileSync(options.from, partial);
    unpacked = unpackInto(partial, staging);
    giveToDataDirOwner(options.dataDir, [partial, staging.segments, staging.anchorSets]);
    if (existsSync(staging.segments)) renameSync(staging.segments, segments);
    if (existsSync(staging.anchorSets)) renameSync(staging.anchorSets, anchorSets);
    renameSync(partial, target);
    syncDirectory(options.dataDir);
  } catch (error: unknown) {
    rmSync(partial, { force: true });
    for (const dir of Object.values(staging)) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { ...summarizeDatabase(target), ...unpacked };
}

function checkBackupFile(from: string): void {
  if (!existsSync(from)) throw new OpsError('not_found', `backup file ${from} does not exist`);
  let check: Database.Database;
  try {
    check = new Database(from, { readonly: true, fileMustExist: true });
  } catch (error: unknown) {
    throw new OpsError('invalid_file', `${from} is not an SQLite database: ${(error as Error).message}`, { cause: error });
  }
  try {
    assertIntact(check, from);
  } finally {
    check.close();
  }
}

/**
 * Writes the backup's segment files and anchor sets under their staging folders and drops their
 * blocks from the database copy (then compacted); returns their bytes.
 */
function unpackInto(database: string, staging: { segments: string; anchorSets: string }): { segmentBytes: number; anchorSetBytes: number } {
  const db = new Database(database);
  try {
    const withSegments = hasSegments(db) && db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'segment_blocks'").pluck().get() === 1;
    const files = withSegments ? unpackSegments(db, staging.segments) : [];
    const anchorSetBytes = unpackAnchorSets(db, staging.anchorSets);
    db.exec('VACUUM');
    return { segmentBytes: files.reduce((sum, file) => sum + statSync(file).size, 0), anchorSetBytes };
  } finally {
    db.close();
    chmodSync(database, PRIVATE_MODE);
  }
}

/** Restored by root (sudo) for a service running as its own user: the files must be that user's. */
function giveToDataDirOwner(dataDir: string, paths: string[]): void {
  if (process.getuid?.() !== 0) return;
  const owner = statSync(dataDir);
  const chownTree = (path: string): void => {
    if (!existsSync(path)) return;
    chownSync(path, owner.uid, owner.gid);
    if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry));
  };
  for (const path of paths) chownTree(path);
}

/** Size, page count and per-table row counts of a database file (opened read-only). */
export function summarizeDatabase(path: string): DatabaseSummary {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const names = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[];
    const tables: Record<string, number> = {};
    for (const name of names) tables[name] = db.prepare(`SELECT count(*) FROM "${name.replaceAll('"', '""')}"`).pluck().get() as number;
    return { path, bytes: statSync(path).size, pageCount: db.pragma('page_count', { simple: true }) as number, tables };
  } finally {
    db.close();
  }
}

function assertIntact(db: Database.Database, path: string): void {
  let result: unknown;
  try {
    result = db.pragma('integrity_check', { simple: true });
  } catch (error: unknown) {
    throw new OpsError('invalid_file', `${path} is not a readable SQLite database: ${(error as Error).message}`, { cause: error });
  }
  if (result !== 'ok') throw new OpsError('invalid_file', `${path} failed SQLite's integrity check: ${String(result)}`);
}
