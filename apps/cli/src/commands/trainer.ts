import type { Command } from 'commander';
import pino from 'pino';
import { addOptions, defineOptions, resolveOptions } from '@rlsa/options';
import { TRAINER_COMMAND, TRAINER_OPTIONS } from '@rlsa/trainer-node/options';
import { PROCESS_OPTIONS } from '../process-options.ts';

/** The node's own options and the process's (settings file, log level). */
export const TRAINER_COMMAND_OPTIONS = defineOptions({ ...TRAINER_OPTIONS, ...PROCESS_OPTIONS });

/**
 * `rlsa trainer`: one party of a run. Trains its model on its own slice of the data, embeds the
 * run's anchors and its samples, projects them on the anchors and uploads only the relative rows
 * (absolute embeddings only with --upload-absolute). Every option also comes from RLSA_<FLAG> and
 * from `--config FILE` (YAML/JSON, camelCase keys); precedence flag > env > file > default.
 */
export function registerTrainerCommand(program: Command): void {
  const command = program
    .command(TRAINER_COMMAND)
    .description('train a node model on its task, embed, project on the run anchors and upload the relative space');
  addOptions(command, TRAINER_COMMAND_OPTIONS).action(async (_flags: Record<string, unknown>, cmd: Command) => {
    const settings = resolveOptions(cmd, TRAINER_COMMAND_OPTIONS);
    // Loaded here, not at the top: gRPC is heavy, and every other rlsa command starts without it (tfjs comes only with a phase that needs it).
    const { nodeOptionsFromSettings, runTrainerNode, writeTrainerNodeResult } = await import('@rlsa/trainer-node/run');
    const logger = pino({ level: settings.process.logLevel, base: { service: 'rlsa-trainer' } });
    const result = await runTrainerNode(nodeOptionsFromSettings(settings), logger);
    if (settings.output.resultsFile !== undefined) writeTrainerNodeResult(settings.output.resultsFile, result);
    logger.info({ taskAccuracy: result.taskAccuracy, totalSeconds: result.timings.totalSeconds }, 'trainer done');
    logger.flush();
    // The wasm runtime keeps handles open; the work is done and the logs are flushed.
    process.exit(0);
  });
}
