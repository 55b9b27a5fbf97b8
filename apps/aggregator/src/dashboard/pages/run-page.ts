import { anchorCount } from '@rlsa/wire';
import type { NodeStatusView, RunStatusView } from '@rlsa/wire';
import { html } from '../html.ts';
import type { SafeHtml } from '../html.ts';
import { summaryOf } from '../live-status.ts';
import { NODE_FIELDS, nodeCells } from '../node-fields.ts';
import { page } from './layout.ts';
import type { Viewer } from './layout.ts';

/** The path of a run's page; its live parts are under it. */
export function runPath(runId: string): string {
  return `/runs/${encodeURIComponent(runId)}`;
}

function nodeRow(node: NodeStatusView, lastSeenMs: number | undefined): SafeHtml {
  const cells = nodeCells(node, lastSeenMs);
  return html`<tr data-node-id="${node.nodeId}">${NODE_FIELDS.map(({ field }) =>
    field === 'nodeId' ? html`<th scope="row" data-field="${field}">${cells[field]}</th>` : html`<td data-field="${field}">${cells[field]}</td>`,
  )}</tr>`;
}

function nodesTable(status: RunStatusView, lastSeenMs: (node: NodeStatusView) => number | undefined): SafeHtml {
  const rows = status.nodes.length === 0 ? html`<tr class="empty"><td colspan="${NODE_FIELDS.length}">No node has joined yet.</td></tr>` : status.nodes.map((node) => nodeRow(node, lastSeenMs(node)));
  return html`<section aria-labelledby="nodes-title">
<h2 id="nodes-title">Nodes</h2>
<div class="scroll" role="region" aria-labelledby="nodes-caption" tabindex="0">
<table id="nodes">
  <caption id="nodes-caption">Nodes of the run and their upload progress</caption>
  <thead><tr>${NODE_FIELDS.map(({ field, heading }) => html`<th scope="col" data-field="${field}">${heading}</th>`)}</tr></thead>
  <tbody>${rows}</tbody>
</table>
</div>
</section>`;
}

function summary(status: RunStatusView): SafeHtml {
  const { config } = status;
  const live = summaryOf(status);
  return html`<dl class="summary">
  <div><dt>Anchors</dt><dd>${anchorCount(config.anchors)}</dd></div>
  <div><dt>Similarity</dt><dd>${config.similarity}${config.center ? ' (centred)' : ''}</dd></div>
  <div><dt>Absolute spaces</dt><dd>${config.allowAbsolute ? 'allowed' : 'not allowed'}</dd></div>
  <div><dt>Encodings</dt><dd>${config.acceptedEncodings.length === 0 ? 'any' : config.acceptedEncodings.join(', ')}</dd></div>
  <div><dt>Nodes</dt><dd data-live="nodes">${live.nodes}</dd></div>
  <div><dt>Merged samples</dt><dd data-live="mergedSamples">${live.mergedSamples}</dd></div>
  <div><dt>Updated</dt><dd data-live="updated">${live.updated}</dd></div>
</dl>`;
}

/**
 * A run's page: its summary, its nodes (updated live by the script from the run's event stream),
 * and the CKA table and the PCA, which the script fetches (`/cka`, `/pca`) when their data changed.
 */
export function runPage(viewer: Viewer, status: RunStatusView, lastSeenMs: (node: NodeStatusView) => number | undefined): SafeHtml {
  const path = runPath(status.config.runId);
  const main = html`<h1>Run <code>${status.config.runId}</code></h1>
<p id="live" class="live" role="status" aria-live="polite">Live updates: connecting…</p>
${summary(status)}
${nodesTable(status, lastSeenMs)}
<section id="cka" class="view" data-key="" data-source="${path}/cka" aria-labelledby="cka-title">
  <h2 id="cka-title">CKA against the reference</h2>
  <p>Waiting for the reference's rows.</p>
</section>
<section id="pca" class="view" data-key="" data-source="${path}/pca" aria-labelledby="pca-title">
  <h2 id="pca-title">PCA of the merged space</h2>
  <p>Waiting for merged samples.</p>
</section>`;
  return page(`Run ${status.config.runId}`, viewer, main, html`data-events="${path}/events"`);
}
