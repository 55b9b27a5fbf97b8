import type { CkaResult } from '../../query/evaluate.ts';
import type { Evaluation } from '../../query/run-reads.ts';
import { formatCount, formatScore } from '../format.ts';
import { html } from '../html.ts';
import type { SafeHtml } from '../html.ts';
import type { PcaPicture } from '../pca-picture.ts';
import type { Computed } from '../throttled-computation.ts';
import { runPath } from './run-page.ts';

function scoreRow(score: CkaResult): SafeHtml {
  return html`<tr data-subject="${score.subject}">
  <th scope="row">${score.subject}</th>
  <td data-value="${score.n}">${formatCount(score.n)}</td>
  <td data-value="${String(score.linearBiased)}">${formatScore(score.linearBiased)}</td>
  <td data-value="${String(score.linearDebiased)}">${formatScore(score.linearDebiased)}</td>
</tr>`;
}

/**
 * The CKA section of a run page for one computed evaluation (a fragment the script swaps in):
 * each score to four decimals, its exact value in `data-value`.
 */
export function ckaSection(runId: string, evaluation: Computed<Evaluation>, referenceFinished: boolean): SafeHtml {
  const { referenceNodeId, scores } = evaluation.value;
  return html`<section id="cka" class="view" data-key="${evaluation.key}" data-source="${runPath(runId)}/cka" aria-labelledby="cka-title">
<h2 id="cka-title">CKA against the reference</h2>
<p>Linear CKA of the merged space and of each trainer's relative space against the reference
<code>${referenceNodeId}</code>${referenceFinished ? '' : ' (still uploading)'}, on the samples each shares with it.</p>
<div class="scroll" role="region" aria-labelledby="cka-caption" tabindex="0">
<table id="cka-table">
  <caption id="cka-caption">Linear CKA against the reference</caption>
  <thead><tr><th scope="col">Space</th><th scope="col">Shared samples</th><th scope="col">Linear CKA</th><th scope="col">Debiased</th></tr></thead>
  <tbody>${scores.map(scoreRow)}</tbody>
</table>
</div>
</section>`;
}

/** The PCA section of a run page for one drawn picture (a fragment the script swaps in). */
export function pcaSection(runId: string, picture: Computed<PcaPicture>): SafeHtml {
  const { drawn, total, explained } = picture.value;
  const share = (fraction: number): string => `${(100 * fraction).toFixed(0)}%`;
  const alt = `Scatter plot of ${drawn} merged samples on the first two principal components, coloured by label`;
  return html`<section id="pca" class="view" data-key="${picture.key}" data-source="${runPath(runId)}/pca" aria-labelledby="pca-title">
<h2 id="pca-title">PCA of the merged space</h2>
<figure>
  <img src="${runPath(runId)}/pca.svg?v=${picture.key}" alt="${alt}">
  <figcaption>${formatCount(drawn)} of ${formatCount(total)} merged samples (evenly spaced by id), coloured by label;
  PC 1 holds ${share(explained[0])} of their variance, PC 2 ${share(explained[1])}.</figcaption>
</figure>
</section>`;
}
