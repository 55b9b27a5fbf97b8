import { SPACE_LABELS, type CkaResult, type SimulationResults } from '@rlsa/simulation';
import { fixed, markdownTable } from './markdown-table.ts';
import { arrayAt, objectAt, readJson } from './read-json.ts';

/**
 * Tables of one `results.json` (`rlsa simulate`). The file is checked for the parts each table
 * reads (a JSON file of another kind fails naming the field), then read as SimulationResults.
 */
function readResults(path: string, parts: readonly string[]): SimulationResults {
  const source = readJson(path);
  for (const part of parts) {
    if (part === 'nodes' || part === 'spaces') arrayAt(source, [part]);
    else objectAt(source, [part]);
  }
  return source.value as SimulationResults;
}

/** Nodes: role, task, model, task accuracy and uploaded rows. */
export function simulationNodes(path: string): string {
  const results = readResults(path, ['nodes']);
  const rows = results.nodes.map((n) => [n.node_id, n.role, n.task === null ? 'all' : String(n.task), n.model, fixed(n.task_accuracy), n.relative_rows.toLocaleString('en-US')]);
  return markdownTable(['node', 'role', 'task', 'model', 'task accuracy', 'rows uploaded'], rows, [4, 5]);
}

/** Linear CKA against the reference (biased, as the paper; and debiased), with the paper's value when the run has one. */
export function simulationCka(path: string): string {
  const results = readResults(path, ['cka']);
  const { cka, paper } = results;
  const row = (label: string, c: CkaResult, paperValue?: number | null): string[] => [
    label,
    fixed(c.linear),
    fixed(c.linear_debiased),
    c.n.toLocaleString('en-US'),
    ...(paper ? [fixed(paperValue)] : []),
  ];
  const rows = [row('merged vs reference', cka.merged_vs_reference, paper?.cka_merged_vs_reference)];
  if (cka.merged_vs_reference_shared_classes) rows.push(row('merged vs reference, shared classes', cka.merged_vs_reference_shared_classes, paper?.cka_shared_classes));
  if (cka.merged_vs_reference_task_specific_classes) {
    rows.push(row('merged vs reference, task-specific classes', cka.merged_vs_reference_task_specific_classes, paper?.cka_task_specific_classes));
  }
  rows.push(row('naive vs reference', cka.naive_vs_reference));
  for (const node of cka.nodes_vs_reference) rows.push(row(`${node.node_id} alone vs reference`, node));
  return markdownTable(['CKA', 'linear', 'debiased', 'n', ...(paper ? ['paper'] : [])], rows, [1, 2, 3, 4]);
}

/** Per space: probe accuracy, nearest-centroid accuracy, separability (the paper's beside them when present). */
export function simulationSpaces(path: string): string {
  const results = readResults(path, ['spaces']);
  const { paper } = results;
  const rows = results.spaces.map((s) => [
    SPACE_LABELS[s.name] ?? s.name,
    fixed(s.probe_accuracy),
    fixed(s.nearest_centroid_accuracy),
    fixed(s.separability),
    ...(paper ? [fixed(paper.probe_accuracy[s.name]), fixed(paper.separability[s.name])] : []),
  ]);
  const header = ['space', 'probe accuracy', 'centroid accuracy', 'separability', ...(paper ? ['paper: probe accuracy', 'paper: separability'] : [])];
  return markdownTable(header, rows, [1, 2, 3, 4, 5]);
}

/** Wall time per phase, in the order the run recorded them (the total last). */
export function simulationTimings(path: string): string {
  const results = readResults(path, ['timings_s']);
  const phases = Object.entries(results.timings_s);
  const rows = [...phases.filter(([name]) => name !== 'total'), ...phases.filter(([name]) => name === 'total')].map(([name, seconds]) => [
    name.replace(/_/g, ' '),
    fixed(seconds, 1),
  ]);
  return markdownTable(['phase', 'seconds'], rows, [1]);
}
