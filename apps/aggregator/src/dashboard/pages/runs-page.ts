import { anchorCount } from '@rlsa/wire';
import type { RunStatusView } from '@rlsa/wire';
import { formatCount, formatTime } from '../format.ts';
import { html } from '../html.ts';
import type { SafeHtml } from '../html.ts';
import { page } from './layout.ts';
import type { Viewer } from './layout.ts';

function runRow(status: RunStatusView): SafeHtml {
  const runId = status.config.runId;
  const finished = status.nodes.filter((node) => node.finished).length;
  return html`<tr data-run-id="${runId}">
  <th scope="row"><a href="/runs/${encodeURIComponent(runId)}">${runId}</a></th>
  <td>${status.nodes.length}</td>
  <td>${finished}</td>
  <td>${formatCount(status.mergedSamples)}</td>
  <td>${formatCount(anchorCount(status.config.anchors))}</td>
  <td>${formatTime(status.updatedAtMs)}</td>
</tr>`;
}

/** The runs the viewer may read, one row each with a link to its page. */
export function runsPage(viewer: Viewer, runs: readonly RunStatusView[]): SafeHtml {
  const body =
    runs.length === 0
      ? html`<tr class="empty"><td colspan="6">No run yet.</td></tr>`
      : runs.map(runRow);
  const main = html`<h1>Runs</h1>
<div class="scroll" role="region" aria-labelledby="runs-caption" tabindex="0">
<table id="runs">
  <caption id="runs-caption">Runs you may read</caption>
  <thead><tr>
    <th scope="col">Run</th><th scope="col">Nodes</th><th scope="col">Finished</th>
    <th scope="col">Merged samples</th><th scope="col">Anchors</th><th scope="col">Updated</th>
  </tr></thead>
  <tbody>${body}</tbody>
</table>
</div>`;
  return page('Runs', viewer, main);
}
