import type { Command } from 'commander';
import { registerAggregatorCommand } from './aggregator.ts';
import { registerBackupCommand } from './backup.ts';
import { registerPkiCommand } from './pki.ts';
import { registerTokensCommand } from './tokens.ts';
import { registerSimulateCommand } from './simulate.ts';
import { registerStudyCommand } from './study.ts';
import { registerRelativeCommand } from './relative.ts';
import { registerMergeCommand } from './merge.ts';
import { registerCkaCommand } from './cka.ts';
import { registerSeparabilityCommand } from './separability.ts';
import { registerTrainerCommand } from './trainer.ts';
import { registerRunCommand } from './run.ts';
import { registerExportCommand } from './export.ts';
import { registerEvaluateCommand } from './evaluate.ts';
import { registerNearestCommand } from './nearest.ts';

/** Each subcommand registers itself on the root program. Add new commands here. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerAggregatorCommand, registerPkiCommand, registerTokensCommand, registerBackupCommand, registerSimulateCommand, registerStudyCommand, registerRelativeCommand, registerMergeCommand, registerCkaCommand, registerSeparabilityCommand, registerTrainerCommand, registerRunCommand, registerExportCommand, registerEvaluateCommand, registerNearestCommand];
