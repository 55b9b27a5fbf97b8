import type { Command } from 'commander';
import type { RunStatusView } from '@rlsa/client';
import { addOptions, defineOptions, integer, resolveOptions } from '@rlsa/options';
import { operatorCommand } from './run-connection.ts';
import { formatTime, nodesTable, printJson } from './run-output.ts';

export const RUN_WATCH_OPTIONS = defineOptions({
  watch: {
    heading: 'Watching:',
    options: {
      untilFinished: integer('--until-finished <n>', 'stop once n nodes have finished their upload (default: watch until interrupted or the run is deleted)', { min: 1, env: false }),
    },
  },
});

/** Whether the watch is done: the run deleted, or at least `untilFinished` nodes finished. */
function done(status: RunStatusView, untilFinished: number | undefined): boolean {
  return status.state === 'deleted' || (untilFinished !== undefined && status.totals.finishedNodes >= untilFinished);
}

/**
 * A live view of a run: on a terminal, its nodes' table redrawn in place after each change; otherwise
 * (or with --json) one JSON line per status. Ends on Ctrl-C (status 0), when the run is deleted, or
 * with --until-finished once that many nodes have finished.
 */
export function registerRunWatch(run: Command): void {
  const command = run.command('watch').description("a run's progress, live (a table redrawn on a terminal, JSON lines otherwise)").argument('<run>', 'run id');
  addOptions(command, RUN_WATCH_OPTIONS);
  operatorCommand(command, async (client, settings, [runId]: [string], cmd) => {
    const { untilFinished } = resolveOptions(cmd, RUN_WATCH_OPTIONS).watch;
    const live = process.stdout.isTTY === true && !settings.output.json;
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    let drawn = 0;
    try {
      for await (const status of client.watchRun(runId, { signal: stop.signal })) {
        if (live) drawn = redraw(status, drawn);
        else printJson(status);
        if (done(status, untilFinished)) break;
      }
    } finally {
      process.off('SIGINT', onSignal);
    }
  });
}

/** Replaces the previous drawing (`lines` lines) with this status; returns its line count. */
function redraw(status: RunStatusView, lines: number): number {
  const { totals } = status;
  const head =
    `run ${status.config.runId} (${status.state}): ${totals.nodes} nodes, ${totals.finishedNodes} finished, ${totals.connectedNodes} connected, ` +
    `${totals.relativeRows} relative rows, ${status.mergedSamples} merged samples; ${formatTime(status.updatedAtMs)}\n`;
  const text = head + (status.nodes.length === 0 ? 'no node has joined yet\n' : nodesTable(status.nodes));
  // Up to the first line drawn before, and clear from there to the end of the screen.
  process.stdout.write(`${lines > 0 ? `\x1b[${lines}F\x1b[J` : ''}${text}`);
  return text.split('\n').length - 1;
}
