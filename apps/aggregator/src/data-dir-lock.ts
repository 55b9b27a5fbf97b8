import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AggregatorError } from './errors.ts';

/** The lock file inside the data dir. */
export const LOCK_FILE = 'aggregator.lock';

/** A data dir held by this process until `release`. */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/**
 * Takes the data dir for this process: a second aggregator on the same dir would serve state that
 * the first one changes behind it. The lock is SQLite's exclusive lock on `aggregator.lock` (a
 * small database of its own, held by an open EXCLUSIVE transaction): POSIX record locks, which
 * the kernel drops when the process ends however it ends, so a `kill -9` leaves no stale lock, and
 * which SQLite also enforces between connections of one process. FAILED_PRECONDITION when another
 * aggregator holds it (not retried: busy timeout 0).
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  let db: Db;
  try {
    db = new Database(path, { timeout: 0 });
  } catch (error: unknown) {
    throw new AggregatorError('failed_precondition', `cannot open the data dir's lock ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // A write inside: the exclusive lock is taken on the file's lock bytes, kept until close.
    db.exec('BEGIN EXCLUSIVE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER)');
    db.prepare('DELETE FROM holder').run();
    db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
  } catch (error: unknown) {
    db.close();
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') {
      throw new AggregatorError('failed_precondition', `data dir ${dataDir} is in use by another aggregator (it holds ${path}); stop it first or give another --data-dir`, { cause: error });
    }
    throw new AggregatorError('failed_precondition', `cannot lock the data dir ${dataDir} (${path}): ${(error as Error).message}`, { cause: error });
  }
  return {
    path,
    release: () => {
      if (db.open) db.close();
    },
  };
}
