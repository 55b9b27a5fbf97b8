import type { Command } from 'commander';
import { backupDatabase, restoreDatabase } from '@rlsa/ops';

/**
 * `rlsa backup` (online, while the aggregator runs) and `rlsa restore` (into the data dir of a stopped
 * aggregator). Both print a JSON summary: the file, its size, the row count of every table, the
 * bytes of chunk records copied, and (backup) the chunks found damaged.
 */
export function registerBackupCommand(program: Command): void {
  program
    .command('backup')
    .description("copy the aggregator's data dir (database and segment files) into one file, while it runs")
    .requiredOption('--data-dir <dir>', "the aggregator's --data-dir")
    .requiredOption('--out <file>', 'backup file to write (mode 0600)')
    .option('--force', 'overwrite --out if it exists', false)
    .action(async (options: { dataDir: string; out: string; force: boolean }) => {
      const summary = await backupDatabase({ dataDir: options.dataDir, out: options.out, force: options.force });
      const { path, bytes, tables, segmentBytes, damagedChunks, anchorSetBytes } = summary;
      process.stdout.write(`${JSON.stringify({ backup: path, bytes, tables, segmentBytes, damagedChunks, anchorSetBytes })}\n`);
    });

  program
    .command('restore')
    .description('put a backup in place as the database of a stopped aggregator')
    .requiredOption('--from <file>', 'backup file made by `rlsa backup`')
    .requiredOption('--data-dir <dir>', "the aggregator's --data-dir")
    .option('--force', 'replace an existing database (kept as aggregator.sqlite.before-restore and segments.before-restore)', false)
    .action((options: { from: string; dataDir: string; force: boolean }) => {
      const summary = restoreDatabase({ from: options.from, dataDir: options.dataDir, force: options.force });
      process.stdout.write(`${JSON.stringify({ restored: summary.path, bytes: summary.bytes, tables: summary.tables, segmentBytes: summary.segmentBytes, anchorSetBytes: summary.anchorSetBytes })}\n`);
    });
}
