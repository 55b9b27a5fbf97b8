import type { Logger } from 'pino';
import type { RunConfigView } from '@rlsa/client';
import { isDatasetName, loadDataset, type ImageDataset } from '@rlsa/data';
import { AnchorSetAssembler, anchorCount, anchorSetFingerprint, checkAnchorFingerprint, decodeAnchorSet, readAnchorSet, type AnchorSet } from '@rlsa/sources';
import type { AggregatorSession } from '../aggregator-session.ts';
import { TrainerError } from '../errors.ts';
import type { NodeDataOptions } from '../node-options.ts';

/**
 * The run's anchors as a party's node holds them: the set (decoded and checked against the run's
 * fingerprint) when its model needs the anchors' inputs, the built-in data set its ids point into,
 * and their count (the relative width) in any case.
 */
export interface PartyAnchors {
  /** Undefined for an embeddings folder: its anchor embeddings come with it, only the count is needed. */
  readonly set: AnchorSet | undefined;
  /** The built-in data set of a `builtin` set (its images are the anchors' inputs). */
  readonly dataset: ImageDataset | undefined;
  readonly count: number;
  readonly fingerprint: string;
  /** Where the set came from, for messages (a file, or the aggregator). */
  readonly origin: string;
}

/** Fetches the run's anchor set in pieces, checking offsets, the announced size and the fingerprint (memory: the set, bounded by MAX_ANCHOR_SET_BYTES). */
async function fetchAnchorSet(session: AggregatorSession, config: RunConfigView & { anchors: { kind: 'anchor-set' } }, log: Logger): Promise<AnchorSet> {
  const origin = `the anchor set of run ${config.runId} (from the aggregator)`;
  const assembler = new AnchorSetAssembler({ size: config.anchors.summary.size, fingerprint: config.anchors.fingerprint }, origin);
  for await (const piece of session.fetchAnchorSet(config.runId)) assembler.add({ offset: piece.offset, bytes: piece.data });
  const set = decodeAnchorSet(assembler.finish(), origin);
  log.info({ anchors: anchorCount(set), kind: set.kind, bytes: config.anchors.summary.size }, 'fetched the anchor set');
  return set;
}

/** A local copy (`--anchors`), refused before any work when its fingerprint is not the run's. */
async function localAnchorSet(path: string, config: RunConfigView | undefined, data: NodeDataOptions): Promise<{ set: AnchorSet; dataset: ImageDataset | undefined; fingerprint: string }> {
  const set = await readAnchorSet(path);
  const dataset = set.kind === 'builtin' ? loadDataset(set.dataset, data.dataDir !== undefined ? { dataDir: data.dataDir } : {}) : undefined;
  if (config !== undefined) checkAnchorFingerprint(set, config.anchors.fingerprint, path, dataset);
  return { set, dataset, fingerprint: config?.anchors.fingerprint ?? anchorSetFingerprint(set, dataset) };
}

/** A run of built-in anchors, for a party: the named data set loaded from `--data-dir` (or its standard place) and its anchors checked. */
function builtinAnchorSet(config: RunConfigView & { anchors: { kind: 'builtin' } }, data: NodeDataOptions): { set: AnchorSet; dataset: ImageDataset } {
  const { anchors, runId } = config;
  if (!isDatasetName(anchors.dataset)) {
    throw new TrainerError('failed_precondition', `run ${runId} projects on samples of an unnamed built-in data set: this node cannot tell which (give --anchors)`);
  }
  const dataset = loadDataset(anchors.dataset, data.dataDir !== undefined ? { dataDir: data.dataDir } : {});
  const ids = Uint32Array.from(anchors.sampleIds, (id) => {
    if (id >= BigInt(dataset.train.count)) throw new TrainerError('failed_precondition', `anchor ${id} of run ${runId} is not a training sample of ${dataset.name} (${dataset.train.count})`);
    return Number(id);
  });
  const set: AnchorSet = { kind: 'builtin', dataset: dataset.name, ids };
  checkAnchorFingerprint(set, anchors.fingerprint, `${dataset.name} (${dataset.source})`, dataset);
  return { set, dataset };
}

/**
 * The run's anchors for a party's node, before any work: a local copy (`--anchors`, checked
 * against the run's fingerprint), else the set fetched from the aggregator (its SHA-256 checked
 * as it is assembled), else, for a run of built-in anchors, the named data set's samples. An
 * embeddings folder needs only the count (unless a local copy is given, which is still checked).
 * Without an aggregator (`config` undefined) the local copy is the run's anchors.
 */
export async function resolvePartyAnchors(
  session: AggregatorSession | undefined,
  config: RunConfigView | undefined,
  anchorsPath: string | undefined,
  needsInputs: boolean,
  data: NodeDataOptions,
  log: Logger,
): Promise<PartyAnchors> {
  if (anchorsPath !== undefined) {
    const local = await localAnchorSet(anchorsPath, config, data);
    const count = anchorCount(local.set);
    if (config !== undefined && count !== runWidth(config)) throw new TrainerError('failed_precondition', `${anchorsPath}: ${count} anchors, run ${config.runId} has ${runWidth(config)}`);
    return { ...local, count, origin: anchorsPath };
  }
  if (config === undefined || session === undefined) throw new TrainerError('invalid_argument', "--anchors is required without --aggregator: the node's own data has no default anchors");
  if (!needsInputs) return { set: undefined, dataset: undefined, count: runWidth(config), fingerprint: config.anchors.fingerprint, origin: `run ${config.runId}` };
  if (config.anchors.kind === 'builtin') {
    const { set, dataset } = builtinAnchorSet({ ...config, anchors: config.anchors }, data);
    return { set, dataset, count: anchorCount(set), fingerprint: config.anchors.fingerprint, origin: dataset.name };
  }
  const set = await fetchAnchorSet(session, { ...config, anchors: config.anchors }, log);
  if (anchorCount(set) !== runWidth(config)) throw new TrainerError('failed_precondition', `run ${config.runId}'s anchor set holds ${anchorCount(set)} anchors, its summary says ${runWidth(config)}`);
  return { set, dataset: undefined, count: anchorCount(set), fingerprint: config.anchors.fingerprint, origin: 'the aggregator' };
}

/** The relative width of a run: its anchor count. */
export function runWidth(config: RunConfigView): number {
  return config.anchors.kind === 'builtin' ? config.anchors.sampleIds.length : config.anchors.summary.count;
}
