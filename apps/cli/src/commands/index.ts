import type { Command } from 'commander';
import { registerBackupCommand } from './backup.ts';
import { registerPkiCommand } from './pki.ts';
import { registerTokensCommand } from './tokens.ts';

/** Each subcommand registers itself on the root program. Add new commands here. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerPkiCommand, registerTokensCommand, registerBackupCommand];
