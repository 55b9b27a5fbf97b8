import type { NodeStatusView, RunStatusView } from '@rlsa/client';

/** A value as JSON for scripts: 64-bit ids (bigint) as decimal strings, typed arrays as lists. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? x.toString() : x));
    return v;
  });
}

/** Prints `value` as one JSON line. */
export function printJson(value: unknown): void {
  process.stdout.write(`${toJson(value)}\n`);
}

/** Rows as left-aligned columns (numbers right-aligned), a header row first, two spaces between columns. */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
  const numeric = header.map((_, c) => rows.length > 0 && rows.every((row) => typeof row[c] === 'number'));
  return cells
    .map((row) => row.map((cell, c) => (numeric[c] === true ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0))).join('  ').trimEnd())
    .join('\n')
    .concat('\n');
}

/** A time as the operator reads it: ISO 8601 in UTC to the second; "-" when unknown. */
export function formatTime(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

/** A run's anchors in a few words: their count and what they are. */
export function describeAnchors(run: RunStatusView): string {
  const { anchors } = run.config;
  if (anchors.kind === 'builtin') return `${anchors.sampleIds.length} of ${anchors.dataset === '' ? 'a built-in data set' : anchors.dataset}`;
  return `${anchors.summary.count} (anchor set ${anchors.fingerprint.slice(0, 12)}…, ${anchors.summary.kind})`;
}

/** The runs as a table: one line each. */
export function runsTable(runs: readonly RunStatusView[]): string {
  return formatTable(
    ['RUN', 'STATE', 'ANCHORS', 'NODES', 'FINISHED', 'CONNECTED', 'RELATIVE ROWS', 'MERGED', 'UPDATED'],
    runs.map((run) => [
      run.config.runId,
      run.state,
      describeAnchors(run),
      run.totals.nodes,
      run.totals.finishedNodes,
      run.totals.connectedNodes,
      run.totals.relativeRows,
      run.mergedSamples,
      formatTime(run.updatedAtMs),
    ]),
  );
}

/** A run's nodes as a table. */
export function nodesTable(nodes: readonly NodeStatusView[]): string {
  return formatTable(
    ['NODE', 'ROLE', 'TASK', 'MODEL', 'TASK ACCURACY', 'RELATIVE ROWS', 'ABSOLUTE ROWS', 'FINISHED', 'CONNECTED', 'LAST SEEN'],
    nodes.map((node) => [
      node.nodeId,
      node.role,
      node.taskId === '' ? '-' : node.taskId,
      node.model === undefined ? '-' : `${node.model.architecture} (${node.model.embeddingWidth})`,
      node.model?.taskAccuracy === undefined ? '-' : node.model.taskAccuracy.toFixed(4),
      node.relativeRows,
      node.absoluteRows,
      node.finished ? 'yes' : 'no',
      node.connected ? 'yes' : 'no',
      formatTime(node.lastSeenMs),
    ]),
  );
}

/** `rlsa run show`: the run's settings and totals, then its nodes. */
export function runDetails(run: RunStatusView): string {
  const { config } = run;
  const lines = [
    `run            ${config.runId}`,
    `state          ${run.state}`,
    `anchors        ${describeAnchors(run)}, fingerprint ${config.anchors.fingerprint}`,
    `similarity     ${config.similarity}${config.center ? ', centered' : ''}`,
    `nodes read     ${config.nodeRead === 'merged' ? 'the merged space' : 'nothing'}`,
    `merged samples ${run.mergedSamples}`,
    `nodes          ${run.totals.nodes} (${run.totals.finishedNodes} finished, ${run.totals.connectedNodes} connected), ${run.totals.relativeRows} relative rows`,
    `updated        ${formatTime(run.updatedAtMs)}`,
  ];
  return `${lines.join('\n')}\n\n${run.nodes.length === 0 ? 'no node has joined\n' : nodesTable(run.nodes)}`;
}
