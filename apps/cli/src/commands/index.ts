import type { Command } from 'commander';
import { registerAggregatorCommand } from './aggregator.ts';
import { registerBackupCommand } from './backup.ts';
import { registerPkiCommand } from './pki.ts';
import { registerTokensCommand } from './tokens.ts';

/** Each subcommand registers itself on the root program. Add new commands here. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerAggregatorCommand, registerPkiCommand, registerTokensCommand, registerBackupCommand];
