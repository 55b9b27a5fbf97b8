import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import type { RunStatusView } from '@rlsa/client';

interface NodeState {
  total: number;
  rows: number;
  message: string;
  finished: boolean;
  joined: boolean;
  loggedQuarter: number;
  bar?: cliProgress.SingleBar;
}

/** A node's latest pino message (`msg`, with the epoch when it logs one), or undefined for other lines. */
export function nodeMessage(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as { msg?: unknown; epoch?: unknown; epochs?: unknown };
    if (typeof parsed.msg !== 'string') return undefined;
    const epoch = typeof parsed.epoch === 'number' ? ` ${parsed.epoch}${typeof parsed.epochs === 'number' ? `/${parsed.epochs}` : ''}` : '';
    return `${parsed.msg}${epoch}`.slice(0, 60);
  } catch {
    return undefined;
  }
}

/**
 * Progress of the nodes of a run: on a TTY one bar per node (rows the aggregator has stored out of
 * the rows the node will upload, and the node's latest log message), driven by WatchRun; otherwise
 * pino lines when a node joins, at each quarter of its upload and when it finishes.
 */
export class NodeProgress {
  private readonly nodes = new Map<string, NodeState>();
  private readonly multibar: cliProgress.MultiBar | undefined;
  private stopped = false;

  constructor(
    tty: boolean,
    private readonly log: Logger,
  ) {
    this.multibar = tty
      ? new cliProgress.MultiBar(
          {
            format: ' {node} [{bar}] {value}/{total} rows | {message}',
            hideCursor: true,
            clearOnComplete: false,
            stopOnComplete: false,
            barsize: 24,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  }

  add(nodeId: string, expectedRows: number): void {
    const state: NodeState = { total: Math.max(expectedRows, 1), rows: 0, message: 'starting', finished: false, joined: false, loggedQuarter: 0 };
    if (this.multibar) state.bar = this.multibar.create(state.total, 0, { node: nodeId.padEnd(10), message: state.message });
    this.nodes.set(nodeId, state);
  }

  /** A line the node printed: its message becomes the bar's status text. */
  line(nodeId: string, line: string): void {
    const state = this.nodes.get(nodeId);
    const message = nodeMessage(line);
    if (!state || message === undefined || this.stopped || state.finished) return;
    state.message = message;
    state.bar?.update(state.rows, { message });
  }

  /** A status from WatchRun. */
  status(status: RunStatusView): void {
    if (this.stopped) return;
    for (const node of status.nodes) {
      const state = this.nodes.get(node.nodeId);
      if (!state) continue;
      state.rows = node.relativeRows;
      if (state.bar) {
        state.finished ||= node.finished;
        state.bar.setTotal(Math.max(state.total, node.relativeRows));
        state.bar.update(node.relativeRows, { message: node.finished ? 'finished' : state.message });
        continue;
      }
      if (!state.joined) {
        state.joined = true;
        this.log.info({ node: node.nodeId, model: node.model?.architecture, taskAccuracy: node.model?.taskAccuracy }, 'node joined');
      }
      const quarter = Math.min(4, Math.floor((4 * node.relativeRows) / state.total));
      if (quarter > state.loggedQuarter && !node.finished) {
        state.loggedQuarter = quarter;
        this.log.info({ node: node.nodeId, rows: node.relativeRows, expected: state.total }, 'node uploading');
      }
      if (node.finished && !state.finished) {
        state.finished = true;
        this.log.info({ node: node.nodeId, rows: node.relativeRows, absoluteRows: node.absoluteRows }, 'node finished its upload');
      }
    }
  }

  /** A phase of the run after the nodes: one line on the terminal, or a pino line. */
  note(message: string, fields: Record<string, unknown> = {}): void {
    if (this.multibar) {
      const details = Object.entries(fields)
        .map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toFixed(3)) : String(v)}`)
        .join(', ');
      process.stderr.write(` ${message}${details ? ` (${details})` : ''}\n`);
    } else {
      this.log.info(fields, message);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multibar?.stop();
  }
}
