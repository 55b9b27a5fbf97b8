import Database from 'better-sqlite3';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupDatabase, DATABASE_FILE, restoreDatabase } from '../src/index.ts';

/**
 * A stand-in for the aggregator in another process: WAL mode, one row per committed transaction,
 * printing each row's sequence number only after its commit (as the aggregator acknowledges a chunk).
 */
const WRITER = `
import { createRequire } from 'node:module';
const Database = createRequire(process.cwd() + '/')('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS chunks (seq INTEGER PRIMARY KEY, payload BLOB NOT NULL)');
const insert = db.prepare('INSERT INTO chunks (seq, payload) VALUES (?, ?)');
const payload = Buffer.alloc(4096, 7);
let seq = 0;
const step = () => { seq += 1; insert.run(seq, payload); process.stdout.write(seq + '\\n'); setImmediate(step); };
step();
`;

let dir: string;
let writer: ChildProcessWithoutNullStreams | undefined;
let lastAcked = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rlsa-backup-test-'));
  mkdirSync(join(dir, 'data'));
});
afterAll(() => {
  writer?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const untilAcked = (count: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const check = (): void => {
      if (lastAcked >= count) {
        writer?.stdout.off('data', check);
        resolve();
      }
    };
    writer?.stdout.on('data', check);
    writer?.once('exit', (code) => reject(new Error(`writer exited with ${code}`)));
    check();
  });

describe('rlsa backup / rlsa restore', () => {
  it('copies a live WAL database while another process commits, holding every row committed before it started', async () => {
    writer = spawn(process.execPath, ['--input-type=module', '-e', WRITER, join(dir, 'data', DATABASE_FILE)], { cwd: process.cwd() });
    let buffered = '';
    writer.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) lastAcked = Math.max(lastAcked, Number(line));
    });
    await untilAcked(300);
    const ackedBeforeBackup = lastAcked;
    const out = join(dir, 'backup.sqlite');
    const summary = await backupDatabase({ dataDir: join(dir, 'data'), out });
    await untilAcked(ackedBeforeBackup + 50); // the writer was never blocked for good
    writer.kill('SIGKILL');

    expect(summary.tables['chunks']).toBeGreaterThanOrEqual(ackedBeforeBackup);
    const copy = new Database(out, { readonly: true });
    const seqs = copy.prepare('SELECT seq FROM chunks ORDER BY seq').pluck().all() as number[];
    expect(seqs.length).toBe(summary.tables['chunks']);
    expect(seqs.every((seq, index) => seq === index + 1)).toBe(true); // a prefix of the commits: a consistent snapshot
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    copy.close();
    expect(statSync(out).mode & 0o777).toBe(0o600);
    await expect(backupDatabase({ dataDir: join(dir, 'data'), out })).rejects.toMatchObject({ code: 'already_exists' });
  });

  it('restores into an empty data dir, and over an old one only with force, dropping the old -wal', () => {
    const backup = join(dir, 'backup.sqlite');
    const fresh = join(dir, 'restored');
    const restored = restoreDatabase({ from: backup, dataDir: fresh });
    const expected = new Database(backup, { readonly: true }).prepare('SELECT count(*) FROM chunks').pluck().get();
    expect(restored.tables['chunks']).toBe(expected);
    expect(() => restoreDatabase({ from: backup, dataDir: fresh })).toThrow(expect.objectContaining({ code: 'already_exists' }));
    writeFileSync(join(fresh, `${DATABASE_FILE}-wal`), 'stale');
    restoreDatabase({ from: backup, dataDir: fresh, force: true });
    expect(existsSync(join(fresh, `${DATABASE_FILE}-wal`))).toBe(false);
    expect(existsSync(join(fresh, `${DATABASE_FILE}.before-restore`))).toBe(true);
    const db = new Database(join(fresh, DATABASE_FILE));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it.skipIf(process.getuid?.() !== 0)('run as root on a stopped aggregator, backup and restore leave its data dir owned by its user', async () => {
    const data = join(dir, 'owned');
    mkdirSync(data);
    const db = new Database(join(data, DATABASE_FILE));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x INTEGER)');
    db.close(); // a clean close removes -wal and -shm, as when the aggregator stops
    chownSync(data, 10001, 10001);
    chownSync(join(data, DATABASE_FILE), 10001, 10001);
    await backupDatabase({ dataDir: data, out: join(dir, 'owned-backup.sqlite') });
    for (const name of readdirSync(data)) expect([name, statSync(join(data, name)).uid]).toEqual([name, 10001]);
    // ... and a root restore into it gives the database to the data dir's owner.
    rmSync(join(data, DATABASE_FILE));
    restoreDatabase({ from: join(dir, 'owned-backup.sqlite'), dataDir: data });
    expect(statSync(join(data, DATABASE_FILE)).uid).toBe(10001);
  });

  it('refuses a data dir without a database and a corrupt backup', async () => {
    await expect(backupDatabase({ dataDir: join(dir, 'nothing-here'), out: join(dir, 'x.sqlite') })).rejects.toMatchObject({ code: 'not_found' });
    writeFileSync(join(dir, 'corrupt.sqlite'), Buffer.alloc(8192, 1));
    expect(() => restoreDatabase({ from: join(dir, 'corrupt.sqlite'), dataDir: join(dir, 'r2') })).toThrow(
      expect.objectContaining({ code: 'invalid_file' }),
    );
    expect(existsSync(join(dir, 'r2', DATABASE_FILE))).toBe(false);
  });
});
