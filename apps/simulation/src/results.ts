import type { NodeRoleName, Scenario } from '@rlsa/core';

/**
 * The schema of `results.json`, the one file a simulation run is judged by.
 *
 * Keys are snake_case because the file is read by people and by Python as often as by this code.
 * Every CKA is linear CKA; `linear` is the biased HSIC estimator (as in the paper), `linear_debiased`
 * the unbiased one (Song et al. 2012). Scores are computed on the test samples (ids ≥ TEST_ID_OFFSET)
 * held by both spaces, as the paper does, unless a field says otherwise.
 */
export const RESULTS_SCHEMA = 'rlsa.simulation.results/v1';

export interface CkaResult {
  /** Linear CKA with the biased HSIC estimator (the paper's number). */
  readonly linear: number;
  /** Linear CKA with the unbiased HSIC estimator. */
  readonly linear_debiased: number;
  /** Rows the score was computed on. */
  readonly n: number;
}

/** One space's quality: how well a probe and the class centroids separate the classes. */
export interface SpaceResult {
  /** merged | naive | end_to_end | end_to_end_absolute | task_embedding */
  readonly name: string;
  readonly description: string;
  /** Width of a row. */
  readonly width: number;
  readonly train_rows: number;
  readonly test_rows: number;
  /** Test accuracy of the paper's probe trained on the training rows; null when not run. */
  readonly probe_accuracy: number | null;
  /** Epochs the probe ran before early stopping (the best epoch's weights are kept). */
  readonly probe_epochs: number | null;
  /** Nearest class centroid (centroids from the training rows) on the test rows; null for spaces without it. */
  readonly nearest_centroid_accuracy: number | null;
  /** The paper's separability on the test rows; null for spaces without it. */
  readonly separability: number | null;
}

export interface NodeResult {
  readonly node_id: string;
  readonly role: NodeRoleName;
  readonly task: number | null;
  readonly model: string;
  readonly embedding_width: number | null;
  readonly classes: readonly number[];
  /** Rows the node uploaded (training and test samples). */
  readonly relative_rows: number;
  readonly task_accuracy: number | null;
  readonly backend: string | null;
  readonly seconds: number | null;
}

export interface PaperComparison {
  /** Where the numbers come from (file names inside the paper-results directory). */
  readonly source: string;
  readonly experiment: Scenario;
  readonly backbone: string;
  readonly key: string;
  readonly cka_merged_vs_reference: number | null;
  readonly cka_shared_classes: number | null;
  readonly cka_task_specific_classes: number | null;
  /** Probe accuracies by our space name. */
  readonly probe_accuracy: Readonly<Record<string, number>>;
  /** Separability by our space name. */
  readonly separability: Readonly<Record<string, number>>;
}

export interface SimulationResults {
  readonly schema: typeof RESULTS_SCHEMA;
  readonly created_at: string;
  readonly preset: string | null;
  readonly scenario: Scenario;
  readonly dataset: string;
  readonly data_dir: string | null;
  readonly seed: number;
  readonly partition: {
    readonly tasks: number;
    readonly shared: number | null;
    readonly novel: number | null;
    readonly shared_percent: number | null;
    readonly shared_classes: readonly number[];
    readonly max_samples: number | null;
    readonly max_test_samples: number | null;
    /** Which test samples a trainer embeds: `classes` (those of its task's classes) or `partition` (its share of the test split, the paper's protocol). */
    readonly test_split: 'classes' | 'partition';
  };
  readonly training: { readonly epochs: number; readonly batch_size: number };
  /** The tfjs backend of the nodes (and of the probe, which runs in this process). */
  readonly backend: string;
  readonly anchors: {
    readonly count: number;
    readonly strategy: string;
    readonly pool_size: number;
    readonly similarity: 'cosine';
    readonly fingerprint: string;
  };
  readonly run_id: string;
  readonly nodes: readonly NodeResult[];
  readonly cka: {
    readonly evaluated_on: string;
    readonly merged_vs_reference: CkaResult;
    /** Only where the scenario has classes every task holds and classes only some hold (shared samples). */
    readonly merged_vs_reference_shared_classes: CkaResult | null;
    readonly merged_vs_reference_task_specific_classes: CkaResult | null;
    readonly naive_vs_reference: CkaResult & { readonly definition: string };
    /** Each trainer's own relative space against the reference's, on the test samples it holds. */
    readonly nodes_vs_reference: readonly (CkaResult & { readonly node_id: string })[];
    /** The aggregator's own Evaluate answer (on every sample shared with the reference, train and test). */
    readonly aggregator_evaluate: readonly (CkaResult & { readonly subject: string })[];
  };
  readonly spaces: readonly SpaceResult[];
  readonly probe: {
    readonly architecture: string;
    readonly optimizer: string;
    readonly batch_size: number;
    readonly max_epochs: number;
    readonly patience: number;
    readonly validation_fraction: number;
    readonly max_train_rows: number | null;
  };
  /** Wall time per phase, seconds. */
  readonly timings_s: Readonly<Record<string, number>>;
  readonly paper: PaperComparison | null;
  /** Why the paper column is missing, when it is. */
  readonly paper_note: string | null;
  readonly files: Readonly<Record<string, string>>;
  /** Caveats of this run's setup that a reader comparing with the paper should know. */
  readonly notes: readonly string[];
}

/** The space names in display order. */
export const SPACE_LABELS: Readonly<Record<string, string>> = {
  merged: 'merged (RLSA)',
  naive: 'naive (jumble)',
  end_to_end: 'end-to-end (relative)',
  end_to_end_absolute: 'end-to-end (absolute)',
  task_embedding: 'end-to-end + task one-hot',
};

function fmt(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** Renders rows as a plain-text table with padded columns. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The summary the CLI prints at the end of a run: CKA first, then each space's scores (paper's beside ours). */
export function formatSummary(results: SimulationResults): string {
  const paper = results.paper;
  const ckaRows: string[][] = [
    ['merged vs reference', fmt(results.cka.merged_vs_reference.linear), fmt(results.cka.merged_vs_reference.linear_debiased), String(results.cka.merged_vs_reference.n), fmt(paper?.cka_merged_vs_reference)],
  ];
  if (results.cka.merged_vs_reference_shared_classes) {
    const c = results.cka.merged_vs_reference_shared_classes;
    ckaRows.push(['  shared classes', fmt(c.linear), fmt(c.linear_debiased), String(c.n), fmt(paper?.cka_shared_classes)]);
  }
  if (results.cka.merged_vs_reference_task_specific_classes) {
    const c = results.cka.merged_vs_reference_task_specific_classes;
    ckaRows.push(['  task-specific classes', fmt(c.linear), fmt(c.linear_debiased), String(c.n), fmt(paper?.cka_task_specific_classes)]);
  }
  const naive = results.cka.naive_vs_reference;
  ckaRows.push(['naive vs reference', fmt(naive.linear), fmt(naive.linear_debiased), String(naive.n), '–']);
  for (const node of results.cka.nodes_vs_reference) {
    ckaRows.push([`${node.node_id} vs reference`, fmt(node.linear), fmt(node.linear_debiased), String(node.n), '–']);
  }
  const ckaHeader = ['CKA (test samples)', 'linear', 'debiased', 'n', ...(paper ? ['paper'] : [])];
  const ckaTable = textTable(ckaHeader, paper ? ckaRows : ckaRows.map((r) => r.slice(0, 4)));

  const spaceHeader = ['space', 'probe acc', 'centroid acc', 'separability', ...(paper ? ['paper acc', 'paper sep'] : [])];
  const spaceRows = results.spaces.map((s) => {
    const row = [SPACE_LABELS[s.name] ?? s.name, fmt(s.probe_accuracy), fmt(s.nearest_centroid_accuracy), fmt(s.separability)];
    if (paper) row.push(fmt(paper.probe_accuracy[s.name]), fmt(paper.separability[s.name]));
    return row;
  });
  const nodeRows = results.nodes.map((n) => [n.node_id, n.role, n.task === null ? 'all' : String(n.task), n.model, fmt(n.task_accuracy), String(n.relative_rows)]);
  const nodeTable = textTable(['node', 'role', 'task', 'model', 'task acc', 'rows'], nodeRows);
  const total = results.timings_s['total'];
  const head =
    `${results.scenario} on ${results.dataset}: ${results.partition.tasks} nodes + reference, ` +
    `${results.anchors.count} ${results.anchors.strategy} anchors, backend ${results.backend}` +
    (total === undefined ? '' : `, ${total.toFixed(1)} s`);
  return [head, '', nodeTable, '', ckaTable, '', textTable(spaceHeader, spaceRows)].join('\n');
}
