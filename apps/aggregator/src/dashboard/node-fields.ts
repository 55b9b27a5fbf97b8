import type { NodeStatusView } from '@rlsa/wire';
import { formatCount, formatModel, formatTime, yesNo } from './format.ts';

/**
 * The columns of a run's nodes table, in order: the server renders the table from them and the
 * live updates carry the same cells (as text), so that a cell is formatted in one place.
 */
export const NODE_FIELDS = [
  { field: 'nodeId', heading: 'Node' },
  { field: 'role', heading: 'Role' },
  { field: 'task', heading: 'Task' },
  { field: 'model', heading: 'Model' },
  { field: 'relativeRows', heading: 'Relative rows' },
  { field: 'absoluteRows', heading: 'Absolute rows' },
  { field: 'finished', heading: 'Finished' },
  { field: 'connected', heading: 'Connected' },
  { field: 'lastSeen', heading: 'Last seen' },
] as const;

export type NodeField = (typeof NODE_FIELDS)[number]['field'];

/** One node's row as text, by column. `lastSeenMs` undefined: not seen since the dashboard followed the run. */
export function nodeCells(node: NodeStatusView, lastSeenMs: number | undefined): Record<NodeField, string> {
  return {
    nodeId: node.nodeId,
    role: node.role,
    task: node.taskId === '' ? '—' : node.taskId,
    model: formatModel(node.model),
    relativeRows: formatCount(node.relativeRows),
    absoluteRows: formatCount(node.absoluteRows),
    finished: yesNo(node.finished),
    connected: yesNo(node.connected),
    lastSeen: node.connected ? 'now (connected)' : formatTime(lastSeenMs),
  };
}
