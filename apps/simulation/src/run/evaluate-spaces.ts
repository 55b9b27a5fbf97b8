import { availableParallelism } from 'node:os';
import { TEST_ID_OFFSET } from '@rlsa/data';
import { linalgForWork } from '@rlsa/linalg-tfjs';
import { classMetrics, ckaVsReference, isTestId, NAIVE_DEFINITION, splitTrainTest, withTaskOneHot, type LabelledSpace } from '../metrics.ts';
import type { SimulationRun } from '../options.ts';
import { instanceNormalize, type ProbeResult } from '../probe.ts';
import { trainProbes } from '../probe-pool.ts';
import type { NodeProgress } from '../progress.ts';
import type { CkaResult, SimulationResults, SpaceResult } from '../results.ts';
import { SimulationError } from '../simulation-error.ts';
import type { NodeSpec } from './launch.ts';
import type { RunPlan } from './plan-run.ts';
import type { RunSpaces } from './read-spaces.ts';
import type { Stopwatch } from './stopwatch.ts';

/** A space the run measures, with how its probe treats it. */
interface SpaceInput {
  readonly name: string;
  readonly description: string;
  readonly space: LabelledSpace;
  /** Instance-normalise the rows before the probe (the paper's InstanceNorm1d). */
  readonly normalize: boolean;
  /** Report nearest-centroid accuracy and separability. */
  readonly metrics: boolean;
}

/** What the evaluation gives: every space's scores and the CKA section of results.json. */
export interface RunEvaluation {
  readonly spaces: readonly SpaceResult[];
  readonly cka: SimulationResults['cka'];
}

function spaceInputs(spaces: RunSpaces, plan: RunPlan, run: SimulationRun): SpaceInput[] {
  const inputs: SpaceInput[] = [
    { name: 'merged', description: 'mean of the trainers’ relative embeddings (RLSA)', space: spaces.merged, normalize: true, metrics: true },
    { name: 'naive', description: 'trainers’ absolute embeddings stacked (jumble)', space: spaces.naive, normalize: true, metrics: true },
    { name: 'end_to_end', description: 'the reference’s relative embeddings', space: spaces.referenceRelative, normalize: true, metrics: true },
    { name: 'end_to_end_absolute', description: 'the reference’s absolute embeddings', space: spaces.referenceAbsolute, normalize: true, metrics: true },
  ];
  if (run.partition.scenario === 'disjoint') {
    inputs.push({
      name: 'task_embedding',
      description: 'the reference’s absolute embeddings, instance-normalised, with a one-hot of the sample’s task appended',
      space: withTaskOneHot(spaces.referenceAbsolute, plan.taskOfClass, plan.partitions.length, instanceNormalize),
      normalize: false,
      metrics: false,
    });
  }
  return inputs;
}

/** The paper's probe on every space, on worker threads (resolves to nulls when the probe is off). */
function probeSpaces(split: readonly { input: SpaceInput; train: LabelledSpace; test: LabelledSpace }[], plan: RunPlan, run: SimulationRun, progress: NodeProgress, signal: AbortSignal | undefined): Promise<(ProbeResult | null)[]> {
  if (!run.probe.enabled) return Promise.resolve(split.map(() => null));
  progress.note(`training ${split.length} probes`);
  const probing = trainProbes(
    split.map(({ input, train, test }) => ({
      train: train.values,
      trainLabels: train.labels,
      test: test.values,
      testLabels: test.labels,
      options: {
        numClasses: plan.dataset.numClasses,
        seed: run.partition.seed,
        maxEpochs: run.probe.maxEpochs,
        patience: run.probe.patience,
        maxTrainRows: run.probe.maxTrainRows,
        normalize: input.normalize,
      },
    })),
    {
      threads: run.probe.threads ?? Math.min(2, availableParallelism()),
      backend: run.training.backend,
      signal,
      onDone: (i, r) => progress.note('probe trained', { space: split[i]!.input.name, accuracy: r.accuracy, epochs: r.epochs }),
    },
  );
  probing.catch(() => undefined);
  return probing;
}

/** CKA of the merged, naive and each trainer's space against the reference, on the test samples both hold. */
async function ckaSection(spaces: RunSpaces, plan: RunPlan, trainers: readonly NodeSpec[]): Promise<Omit<SimulationResults['cka'], 'aggregator_evaluate'>> {
  // tfjs products when the work is large.
  const testRows = spaces.referenceRelative.sampleIds.filter(isTestId).length;
  const { linalg } = await linalgForWork(testRows * 3 * 256 * 256);
  const ckaOrFail = (result: CkaResult | null, what: string): CkaResult => {
    if (!result) throw new SimulationError('process_failed', `${what}: fewer than 4 test samples in common with the reference`);
    return result;
  };
  const merged = ckaOrFail(ckaVsReference(spaces.merged, spaces.referenceRelative, undefined, linalg), 'CKA(merged, reference)');
  const hasGroups = plan.sharedClasses.length > 0 && plan.taskSpecificClasses.length > 0;
  const naive = ckaOrFail(ckaVsReference(spaces.naive, spaces.referenceAbsolute, undefined, linalg), 'CKA(naive, reference)');
  const nodes = trainers.map((spec, k) => ({
    node_id: spec.id,
    ...ckaOrFail(ckaVsReference(spaces.nodeRelative[k]!, spaces.referenceRelative, undefined, linalg), `CKA(${spec.id}, reference)`),
  }));
  return {
    evaluated_on: `the test samples (ids ≥ ${TEST_ID_OFFSET}) held by both spaces`,
    merged_vs_reference: merged,
    merged_vs_reference_shared_classes: hasGroups ? ckaVsReference(spaces.merged, spaces.referenceRelative, new Set(plan.sharedClasses), linalg) : null,
    merged_vs_reference_task_specific_classes: hasGroups ? ckaVsReference(spaces.merged, spaces.referenceRelative, new Set(plan.taskSpecificClasses), linalg) : null,
    naive_vs_reference: { ...naive, definition: NAIVE_DEFINITION },
    nodes_vs_reference: nodes,
  };
}

/**
 * Phase 5, evaluate: the probes train on worker threads while this thread computes CKA against the
 * reference, nearest-centroid accuracy and separability; then the aggregator's own Evaluate is read.
 */
export async function evaluateSpaces(
  spaces: RunSpaces,
  plan: RunPlan,
  run: SimulationRun,
  trainers: readonly NodeSpec[],
  context: { progress: NodeProgress; stopwatch: Stopwatch; signal: AbortSignal | undefined; aborted: Promise<never> },
): Promise<RunEvaluation> {
  const split = spaceInputs(spaces, plan, run).map((input) => ({ input, ...splitTrainTest(input.space) }));
  const probing = probeSpaces(split, plan, run, context.progress, context.signal);
  const cka = await ckaSection(spaces, plan, trainers);
  context.stopwatch.mark('cka');
  // The paper scores shared-samples separability on the class pairs that involve a task-specific
  // class (its `non_shared_classes`), and the other experiments on every pair.
  const hasGroups = plan.sharedClasses.length > 0 && plan.taskSpecificClasses.length > 0;
  const separabilityClasses = run.partition.scenario === 'shared-samples' && hasGroups ? plan.taskSpecificClasses : undefined;
  const classes = split.map(({ input, train, test }) => (input.metrics ? classMetrics(train, test, separabilityClasses) : null));
  context.stopwatch.mark('centroid_and_separability');
  const probes = await Promise.race([probing, context.aborted]);
  context.stopwatch.mark('probes');
  const evaluation = await Promise.race([spaces.evaluating, context.aborted]);
  context.stopwatch.mark('aggregator_evaluate');
  return {
    spaces: split.map(({ input, train, test }, i) => ({
      name: input.name,
      description: input.description,
      width: input.space.values.cols,
      train_rows: train.values.rows,
      test_rows: test.values.rows,
      probe_accuracy: probes[i]?.accuracy ?? null,
      probe_epochs: probes[i]?.epochs ?? null,
      nearest_centroid_accuracy: classes[i]?.nearestCentroid ?? null,
      separability: classes[i]?.separability ?? null,
    })),
    cka: { ...cka, aggregator_evaluate: evaluation.scores.map((s) => ({ subject: s.subject, linear: s.linearBiased, linear_debiased: s.linearDebiased, n: s.n })) },
  };
}
