import type { Command } from 'commander';
import type { AggregatorClient, RunConfigInput, RunStatusView } from '@rlsa/client';
import { ENCODING_NAMES, NODE_READ_NAMES, runConfigView } from '@rlsa/client';
import { SIMILARITIES } from '@rlsa/core';
import { anchorFingerprint, DATASET_NAMES, defaultAnchorIds, loadDataset } from '@rlsa/data';
import { addOptions, choice, defineOptions, integer, list, resolveOptions, text, toggle, UsageError } from '@rlsa/options';
import type { OptionValues } from '@rlsa/options';
import { operatorCommand } from './run-connection.ts';
import type { OperatorSettings } from './run-connection.ts';
import { printJson, runsTable } from './run-output.ts';

/** What `rlsa run create` takes besides the connection: a run file, or the run's settings as flags. */
export const RUN_CREATE_OPTIONS = defineOptions({
  run: {
    heading: 'The run (a run file, or flags):',
    options: {
      runFile: text('--run-file <file>', "a run file (the aggregator's --run-file format): every run in it is created", { env: false }),
      run: text('--run <id>', 'run id (without --run-file)', { env: false }),
      dataset: choice('--dataset <name>', "built-in anchors: the data set's default anchors (the fingerprint is computed from your copy of its files)", DATASET_NAMES, { env: false }),
      dataDir: text('--data-dir <dir>', "with --dataset: the data set's files (default: its standard location)", { env: false }),
      anchors: integer('--anchors <n>', 'with --dataset: how many default anchors (default: the data set default)', { min: 1, env: false }),
      anchorSet: text('--anchor-set <path>', 'an anchor set to upload and project on: a folder of images, an .npy file (N×H×W×C, N×H×W or N×F) or a folder holding x.npy', { env: false }),
      similarity: choice('--similarity <s>', 'similarity of the relative projection', SIMILARITIES, { default: 'cosine', env: false }),
      nodeRead: choice('--node-read <policy>', "what the run's nodes may read: the merged space (and its evaluation, nearest neighbours) or nothing", NODE_READ_NAMES, { default: 'merged', env: false }),
      encodings: list('--encodings <list>', `upload encodings accepted (${ENCODING_NAMES.join(', ')}); default: all`, { env: false }),
      center: toggle('--center', 'nodes center their embeddings on the anchor mean before projecting', { env: false }),
      allowAbsolute: toggle('--allow-absolute', 'nodes may also upload absolute embeddings (research baselines)', { env: false }),
    },
  },
});
type CreateSettings = OptionValues<typeof RUN_CREATE_OPTIONS>['run'];

/** `rlsa run create`: from a run file, or from flags with built-in anchors (--dataset) or an uploaded anchor set (--anchor-set). */
export function registerRunCreate(run: Command): void {
  const command = run.command('create').description('create runs (admin): from a run file, or --run with --dataset (built-in anchors) or --anchor-set (uploaded)');
  addOptions(command, RUN_CREATE_OPTIONS);
  operatorCommand(command, async (client, settings, _args, cmd) => {
    const create = resolveOptions(cmd, RUN_CREATE_OPTIONS).run;
    const configs = create.runFile !== undefined ? await fromRunFile(create) : [await fromFlags(client, create, settings)];
    const created: RunStatusView[] = [];
    for (const config of configs) created.push(await client.createRun(config));
    if (settings.output.json) printJson(created.length === 1 ? created[0] : created);
    else process.stdout.write(runsTable(created));
  });
}

async function fromRunFile(create: CreateSettings): Promise<RunConfigInput[]> {
  const given = (['run', 'dataset', 'anchorSet'] as const).filter((key) => create[key] !== undefined);
  if (given.length > 0) throw new UsageError('conflicting_options', '--run-file holds the runs: give no --run, --dataset or --anchor-set with it');
  const { loadRunFile } = await import('@rlsa/aggregator');
  return (await loadRunFile(create.runFile as string)).map(runConfigView);
}

/** The run's config from flags; an anchor set is read, encoded and uploaded first (a set stored before is not sent again). */
async function fromFlags(client: AggregatorClient, create: CreateSettings, settings: OperatorSettings): Promise<RunConfigInput> {
  if (create.run === undefined) throw new UsageError('missing_option', '--run is required (or give a --run-file)');
  if ((create.dataset === undefined) === (create.anchorSet === undefined)) throw new UsageError('conflicting_options', 'give the anchors: --dataset (built-in) or --anchor-set (uploaded), one of them');
  const anchors = create.dataset !== undefined ? await builtinAnchors(create) : await uploadedAnchorSet(client, create.anchorSet as string, settings);
  return {
    runId: create.run,
    anchors,
    similarity: create.similarity,
    nodeRead: create.nodeRead,
    acceptedEncodings: create.encodings.map((name) => {
      if (!(ENCODING_NAMES as readonly string[]).includes(name)) throw new UsageError('invalid_value', `--encodings must list ${ENCODING_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
      return name as (typeof ENCODING_NAMES)[number];
    }),
    center: create.center,
    allowAbsolute: create.allowAbsolute,
  };
}

/** The data set's default anchors and their fingerprint, as every node recomputes it from its own copy. */
async function builtinAnchors(create: CreateSettings): Promise<RunConfigInput['anchors']> {
  const dataset = loadDataset(create.dataset as string, create.dataDir === undefined ? {} : { dataDir: create.dataDir });
  const ids = defaultAnchorIds(dataset, create.anchors === undefined ? {} : { count: create.anchors });
  return { kind: 'builtin', dataset: dataset.name, sampleIds: ids, fingerprint: anchorFingerprint(dataset, ids) };
}

/** Reads the anchor set at `path` (@rlsa/sources), uploads its canonical encoding, and names it by fingerprint and summary. */
async function uploadedAnchorSet(client: AggregatorClient, path: string, settings: OperatorSettings): Promise<RunConfigInput['anchors']> {
  const [{ encodeAnchorSet, readAnchorSet, sha256Hex }, { anchorSetSummaryOf }] = await Promise.all([import('@rlsa/sources'), import('@rlsa/aggregator')]);
  const set = await readAnchorSet(path);
  const bytes = encodeAnchorSet(set);
  const fingerprint = sha256Hex(bytes);
  const summary = anchorSetSummaryOf(set, bytes.byteLength);
  const uploaded = await client.uploadAnchorSet({ fingerprint, summary, bytes });
  if (!settings.output.json) process.stderr.write(`anchor set ${path}: ${summary.count} anchors, ${bytes.byteLength} bytes, ${uploaded.created ? 'uploaded' : 'stored before'} (${fingerprint})\n`);
  return { kind: 'anchor-set', fingerprint, summary };
}
