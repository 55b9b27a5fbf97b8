import type { NodeStatusView, RunStatusView } from '@rlsa/wire';
import { formatCount, formatTime } from './format.ts';
import { nodeCells } from './node-fields.ts';
import type { NodeField } from './node-fields.ts';
import { evaluationKey, pictureKey } from './view-keys.ts';

/**
 * What a run page shows that changes while nodes upload, as text ready for the page (the
 * server's formatting, so that the script only places it): one server-sent event.
 */
export interface LiveStatus {
  /** The run summary's live fields, by `data-live` name. */
  readonly summary: { readonly mergedSamples: string; readonly nodes: string; readonly updated: string };
  readonly nodes: readonly { readonly id: string; readonly cells: Record<NodeField, string> }[];
  /** The version of the CKA table's data (null: no reference row yet): the page fetches the table again when it changes. */
  readonly ckaKey: string | null;
  /** The version of the merged space (null: too few samples to draw): the page redraws the PCA when it changes. */
  readonly pcaKey: string | null;
}

/** The summary's live fields of a run, as text. */
export function summaryOf(status: RunStatusView): LiveStatus['summary'] {
  const finished = status.nodes.filter((node) => node.finished).length;
  return {
    mergedSamples: formatCount(status.mergedSamples),
    nodes: `${status.nodes.length} (${finished} finished)`,
    updated: formatTime(status.updatedAtMs),
  };
}

export function liveStatus(status: RunStatusView, lastSeenMs: (node: NodeStatusView) => number | undefined): LiveStatus {
  return {
    summary: summaryOf(status),
    nodes: status.nodes.map((node) => ({ id: node.nodeId, cells: nodeCells(node, lastSeenMs(node)) })),
    ckaKey: evaluationKey(status),
    pcaKey: pictureKey(status),
  };
}
