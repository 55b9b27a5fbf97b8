import type { Command } from 'commander';
import type { AggregatorClient, RunStatusView, SpaceRows } from '@rlsa/client';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addOptions, defineOptions, integer, resolveOptions, text, UsageError } from '@rlsa/options';
import { NpyAppender } from './export-npy-appender.ts';
import { operatorCommand } from './run-connection.ts';
import { printJson } from './run-output.ts';

export const EXPORT_OPTIONS = defineOptions({
  export: {
    heading: 'Export:',
    options: {
      out: text('--out <dir>', 'folder of the NPY files (created; an interrupted export there is continued)', { required: true, env: false }),
      space: text('--space <node>', "one node's relative space instead of the merged space (admin token)", { env: false }),
      batchRows: integer('--batch-rows <n>', 'rows per streamed message (memory: one batch)', { min: 1, max: 65_536, default: 4096, env: false }),
    },
  },
});

/** The export's own record, beside the arrays: what it is of, and whether it completed. */
export const EXPORT_MANIFEST = 'export.json';

interface Manifest {
  runId: string;
  /** 'merged', or the node id of a node space. */
  space: string;
  width: number;
  anchorsFingerprint: string;
  complete: boolean;
  rows: number;
}

/** The four arrays of an export, appended together one batch at a time. */
interface ExportFiles {
  values: NpyAppender;
  sampleIds: NpyAppender;
  labels: NpyAppender;
  counts: NpyAppender;
}

/**
 * `rlsa export RUN --out DIR [--space NODE]`: the merged space (`merged.npy` float32 N×anchors,
 * `sample_ids.npy` uint64, `labels.npy` int32, `merged_counts.npy` uint32: the simulation's names)
 * or one node's relative space (`relative.npy`, `sample_ids.npy`, `labels.npy`, `counts.npy`),
 * streamed with one batch in memory. An interrupted export is continued by the same command: the
 * files are cut to their last whole row and the merged space read on after its last id
 * (ReadMerged's resume cursor); a node space is read again and its first rows skipped.
 */
export function registerExportCommand(program: Command): void {
  const command = program.command('export').description("write a run's merged space (or a node's space) as NPY files, resumable").argument('<run>', 'run id');
  addOptions(command, EXPORT_OPTIONS);
  operatorCommand(command, async (client, settings, [runId]: [string], cmd) => {
    const options = resolveOptions(cmd, EXPORT_OPTIONS).export;
    const status = await firstStatus(client, runId);
    const manifest: Manifest = {
      runId,
      space: options.space ?? 'merged',
      width: status.config.anchors.kind === 'builtin' ? status.config.anchors.sampleIds.length : status.config.anchors.summary.count,
      anchorsFingerprint: status.config.anchors.fingerprint,
      complete: false,
      rows: 0,
    };
    const resume = prepareFolder(options.out, manifest);
    if (resume === 'complete') {
      if (settings.output.json) printJson(readManifest(options.out));
      else process.stdout.write(`${options.out} holds the complete export of ${describe(manifest)} already\n`);
      return;
    }
    const files = openFiles(options.out, manifest, resume === 'continue');
    try {
      const total = options.space === undefined ? status.mergedSamples : (status.nodes.find((node) => node.nodeId === options.space)?.relativeRows ?? 0);
      const rows = await exportRows(client, manifest, files, { batchRows: options.batchRows, total, progress: !settings.output.json && process.stderr.isTTY === true });
      for (const file of Object.values(files)) file.finish();
      const done = { ...manifest, complete: true, rows };
      writeFileSync(join(options.out, EXPORT_MANIFEST), `${JSON.stringify(done, null, 2)}\n`);
      if (settings.output.json) printJson(done);
      else process.stdout.write(`exported ${rows} rows of ${describe(manifest)} to ${options.out}\n`);
    } finally {
      for (const file of Object.values(files)) file.close();
    }
  });
}

function describe(manifest: Manifest): string {
  return manifest.space === 'merged' ? `the merged space of run ${manifest.runId}` : `node ${manifest.space}'s relative space in run ${manifest.runId}`;
}

/** The run's status as its reader may see it (WatchRun's first message: nodes and readers alike may ask). */
async function firstStatus(client: AggregatorClient, runId: string): Promise<RunStatusView> {
  for await (const status of client.watchRun(runId)) return status;
  throw new UsageError('invalid_value', `run ${runId}: no status`);
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, EXPORT_MANIFEST), 'utf8')) as Manifest;
}

/** Creates the folder, or checks that the export in it is this one: 'complete', 'continue' or 'new'. */
function prepareFolder(dir: string, manifest: Manifest): 'complete' | 'continue' | 'new' {
  const path = join(dir, EXPORT_MANIFEST);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
    return 'new';
  }
  const found = readManifest(dir);
  const same = found.runId === manifest.runId && found.space === manifest.space && found.width === manifest.width && found.anchorsFingerprint === manifest.anchorsFingerprint;
  if (!same) throw new UsageError('invalid_value', `${dir} holds an export of ${describe(found)} (width ${found.width}): give another --out`);
  return found.complete ? 'complete' : 'continue';
}

function openFiles(dir: string, manifest: Manifest, resume: boolean): ExportFiles {
  const merged = manifest.space === 'merged';
  const files: ExportFiles = {
    values: new NpyAppender(join(dir, merged ? 'merged.npy' : 'relative.npy'), '<f4', [manifest.width], manifest.width * 4, resume),
    sampleIds: new NpyAppender(join(dir, 'sample_ids.npy'), '<u8', [], 8, resume),
    labels: new NpyAppender(join(dir, 'labels.npy'), '<i4', [], 4, resume),
    counts: new NpyAppender(join(dir, merged ? 'merged_counts.npy' : 'counts.npy'), '<u4', [], 4, resume),
  };
  // Every file continues after the rows all of them hold.
  const rows = Math.min(...Object.values(files).map((file) => file.rows));
  for (const file of Object.values(files)) file.truncate(rows);
  return files;
}

/** Streams the rows after those already written into the files; returns the rows the files hold. */
async function exportRows(client: AggregatorClient, manifest: Manifest, files: ExportFiles, options: { batchRows: number; total: number; progress: boolean }): Promise<number> {
  const written = files.sampleIds.rows;
  const after = written === 0 ? undefined : new BigUint64Array(files.sampleIds.readRow(written - 1).buffer)[0];
  const bar = options.progress ? await progressBar(options.total, written) : undefined;
  const batches =
    manifest.space === 'merged'
      ? client.readMergedBatches(manifest.runId, { maxRowsPerChunk: options.batchRows, ...(after !== undefined ? { afterSampleId: after } : {}) })
      : skipRows(client.readNodeSpaceBatches(manifest.runId, manifest.space, 'relative', { maxRowsPerChunk: options.batchRows }), written, after);
  try {
    for await (const batch of batches) {
      appendBatch(files, batch);
      bar?.update(files.sampleIds.rows);
    }
  } finally {
    bar?.stop();
  }
  return files.sampleIds.rows;
}

function appendBatch(files: ExportFiles, batch: SpaceRows): void {
  const bytes = (view: ArrayBufferView): Uint8Array => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  files.values.append(bytes(batch.values.data));
  files.labels.append(bytes(batch.labels));
  files.counts.append(bytes(batch.counts));
  files.sampleIds.append(bytes(batch.sampleIds));
}

/** A node space read again from its start, without its first `rows` rows (written before); the last of them must be `lastId`. */
async function* skipRows(batches: AsyncIterable<SpaceRows>, rows: number, lastId: bigint | undefined): AsyncGenerator<SpaceRows> {
  const changed = (): UsageError => new UsageError('invalid_value', 'the node space changed since the export began: start it again in a new --out');
  let seen = 0;
  for await (const batch of batches) {
    const n = batch.sampleIds.length;
    const skip = Math.min(n, Math.max(0, rows - seen));
    seen += n;
    if (skip > 0 && seen >= rows && lastId !== undefined && batch.sampleIds[skip - 1] !== lastId) throw changed();
    if (skip === 0) yield batch;
    else if (skip < n) yield tail(batch, skip);
  }
}

/** The rows of a batch from `start` on. */
function tail(batch: SpaceRows, start: number): SpaceRows {
  const cols = batch.values.cols;
  return {
    sampleIds: batch.sampleIds.subarray(start),
    values: { rows: batch.values.rows - start, cols, data: batch.values.data.subarray(start * cols) },
    labels: batch.labels.subarray(start),
    counts: batch.counts.subarray(start),
  };
}

/** A progress bar on stderr (a terminal only). */
async function progressBar(total: number, start: number): Promise<{ update(rows: number): void; stop(): void }> {
  const { Presets, SingleBar } = await import('cli-progress');
  const bar = new SingleBar({ format: 'export [{bar}] {percentage}% {value}/{total} rows', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  bar.start(Math.max(total, start), start);
  return { update: (rows) => bar.update(rows, { total: Math.max(total, rows) }), stop: () => bar.stop() };
}
