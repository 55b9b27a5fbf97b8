import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AGGREGATOR_COMMAND, AGGREGATOR_OPTIONS } from '@rlsa/aggregator/settings';
import { parseListeningLine } from '@rlsa/aggregator/readiness';
import type { NodeRoleName } from '@rlsa/core';
import { toArgv } from '@rlsa/options';
import type { ModelName } from '@rlsa/trainer-node/model-specs';
import { trainerArgv } from '@rlsa/trainer-node/options';
import type { SimulationRun } from '../options.ts';
import { lastMessage, waitForLine, type ManagedProcess, type ProcessGroup } from '../processes.ts';
import type { NodeProgress } from '../progress.ts';
import { SimulationError } from '../simulation-error.ts';
import type { RunPlan } from './plan-run.ts';

/** A promise that rejects with an `interrupted` error when `signal` aborts (never settles without one). */
export function abortPromise(signal: AbortSignal | undefined): Promise<never> {
  const aborted = new Promise<never>((_, reject) => {
    if (!signal) return;
    const fail = (): void => reject(new SimulationError('interrupted', 'interrupted: stopped the aggregator and the nodes'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => undefined);
  return aborted;
}

/** The run's aggregator process: where it listens, and a promise that rejects if it dies before `stopping()`. */
export interface RunningAggregator {
  readonly address: string;
  readonly died: Promise<never>;
  /** From now on its exit is expected (the run is over). */
  stopping(): void;
}

/**
 * Phase 2, the aggregator: started on a free loopback port with a fresh data directory inside the
 * output directory; resolves once its listening line names the port.
 */
export async function startAggregator(group: ProcessGroup, outDir: string, timeoutMs: number, aborted: Promise<never>, log: Logger): Promise<RunningAggregator> {
  const argv = [AGGREGATOR_COMMAND, ...toArgv(AGGREGATOR_OPTIONS, { storage: { dataDir: join(outDir, 'aggregator') }, network: { host: '127.0.0.1', port: 0 } })];
  const aggregator = group.spawn('aggregator', argv);
  const listening = await Promise.race([waitForLine(aggregator, parseListeningLine, timeoutMs), aborted]);
  const address = `127.0.0.1:${listening.port}`;
  log.info({ address }, 'aggregator listening');
  let expected = false;
  const died = aggregator.exited.then(({ code, signal }) => {
    if (expected) return new Promise<never>(() => undefined);
    throw new SimulationError('process_failed', `the aggregator exited (${signal ?? `code ${code}`}): ${lastMessage(aggregator)} (log: ${aggregator.logPath})`);
  });
  died.catch(() => undefined);
  return { address, died, stopping: () => (expected = true) };
}

/** One node of the run: a trainer of its task, or the reference. */
export interface NodeSpec {
  readonly id: string;
  readonly role: NodeRoleName;
  readonly task: number | null;
  readonly model: string;
}

/** The K trainers (one per task, each with its model) and the reference. */
export function nodeSpecs(plan: RunPlan, run: SimulationRun): NodeSpec[] {
  const { models, referenceModel } = run.training;
  const modelOf = (k: number): string => models[models.length === 1 ? 0 : k] ?? models[0]!;
  return [
    ...plan.partitions.map((p, k) => ({ id: `node-${k}`, role: 'trainer' as const, task: p.taskId, model: modelOf(k) })),
    { id: 'reference', role: 'reference' as const, task: null, model: referenceModel ?? modelOf(0) },
  ];
}

/** Where a node writes its summary (`--results-file`). */
export const nodeResultsPath = (nodeDir: string, id: string): string => join(nodeDir, `${id}.json`);

/**
 * Threads of each node's native training kernels: the machine's cores divided between the nodes
 * that train at once (all of them), at least one each.
 */
export function threadsPerNode(nodes: number, cores: number = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, nodes)));
}

/** The argv of one node: the run's settings as the node's own (uploading absolute rows too, for the baselines). */
export function nodeArgv(spec: NodeSpec, plan: RunPlan, run: SimulationRun, address: string, nodeDir: string, threads: number): string[] {
  const { partition, training } = run;
  return trainerArgv({
    node: { run: plan.runId, nodeId: spec.id, role: spec.role, ...(spec.task !== null ? { task: spec.task } : {}) },
    data: run.data,
    partition: { ...partition, tasks: partition.nodes },
    // Unchecked here: a node refuses an unknown model (exit 2), and the run reports that node's failure.
    training: { model: spec.model as ModelName, epochs: training.epochs, batchSize: training.batchSize, backend: training.backend, threads },
    upload: { encoding: run.upload.encoding, uploadAbsolute: true },
    connection: { aggregator: address },
    output: { resultsFile: nodeResultsPath(nodeDir, spec.id) },
  });
}

/**
 * Phase 3, the nodes: every trainer and the reference at once (each process trains on one core),
 * their output lines fed to the progress display. Resolves when all exited with status 0; rejects
 * on the first failure, the aggregator's death or an abort.
 */
export async function runNodes(
  specs: readonly NodeSpec[],
  argvOf: (spec: NodeSpec) => string[],
  group: ProcessGroup,
  progress: NodeProgress,
  stop: { aggregatorDied: Promise<never>; aborted: Promise<never> },
): Promise<void> {
  const processes: ManagedProcess[] = specs.map((spec) => group.spawn(spec.id, argvOf(spec), { onLine: (line) => progress.line(spec.id, line) }));
  const failures = processes.map((p) =>
    p.exited.then(({ code, signal }) => {
      if (code !== 0) throw new SimulationError('process_failed', `${p.name} failed (${signal ?? `exit code ${code}`}): ${lastMessage(p)} (log: ${p.logPath})`);
    }),
  );
  failures.forEach((f) => f.catch(() => undefined));
  await Promise.race([Promise.all(failures), stop.aggregatorDied, stop.aborted]);
}
