import Database from 'better-sqlite3';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OpsError } from './ops-error.ts';
import { PRIVATE_MODE, syncDirectory } from './private-file.ts';

/** The aggregator's whole state (interfaces.md): one SQLite database in WAL mode inside the data dir. */
export const DATABASE_FILE = 'aggregator.sqlite';

/** What a backup or a restore holds: enough for an operator to see it is the data they expect. */
export interface DatabaseSummary {
  readonly path: string;
  readonly bytes: number;
  readonly pageCount: number;
  /** Row count of every table (`sqlite_%` tables excluded). */
  readonly tables: Readonly<Record<string, number>>;
}

/**
 * Copies `<dataDir>/aggregator.sqlite` to `out` with SQLite's online backup API while the aggregator
 * keeps running. The copy is one consistent snapshot: all pages are transferred in a single backup
 * step, i.e. inside one read transaction, which in WAL mode never blocks the aggregator's writers
 * (with the default 100-page steps, every commit by the aggregator would restart the copy, and a busy
 * aggregator could keep it from ever finishing). Every chunk the aggregator acknowledged before the
 * backup started is in the copy, since an acknowledgement follows its commit.
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
  try {
    const copy = new Database(partial);
    try {
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
  return summarizeDatabase(out);
}

/**
 * Restores a backup into `dataDir` for an aggregator that is **stopped**: checks the backup, copies
 * it to `<dataDir>/aggregator.sqlite` (through a temporary file and a rename), and removes the old
 * database's `-wal` and `-shm`, which belong to the replaced file and would corrupt the restored one.
 * Replacing an existing database needs `force`; the previous file is kept as `aggregator.sqlite.before-restore`.
 * Run as root, the restored file gets the owner of the data dir (the aggregator's user).
 */
export function restoreDatabase(options: { from: string; dataDir: string; force?: boolean }): DatabaseSummary {
  if (!existsSync(options.from)) throw new OpsError('not_found', `backup file ${options.from} does not exist`);
  let check: Database.Database;
  try {
    check = new Database(options.from, { readonly: true, fileMustExist: true });
  } catch (error: unknown) {
    throw new OpsError('invalid_file', `${options.from} is not an SQLite database: ${(error as Error).message}`, { cause: error });
  }
  try {
    assertIntact(check, options.from);
  } finally {
    check.close();
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const target = join(options.dataDir, DATABASE_FILE);
  if (existsSync(target)) {
    if (options.force !== true) throw new OpsError('already_exists', `${target} exists; stop the aggregator and pass --force to replace it`);
    renameSync(target, `${target}.before-restore`);
  }
  for (const suffix of ['-wal', '-shm', '-journal']) rmSync(`${target}${suffix}`, { force: true });
  const partial = `${target}.restore-${process.pid}`;
  copyFileSync(options.from, partial);
  chmodSync(partial, PRIVATE_MODE);
  // Restored by root (sudo) for a service running as its own user: the file must be that user's.
  if (process.getuid?.() === 0) {
    const owner = statSync(options.dataDir);
    chownSync(partial, owner.uid, owner.gid);
  }
  renameSync(partial, target);
  syncDirectory(options.dataDir);
  return summarizeDatabase(target);
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
