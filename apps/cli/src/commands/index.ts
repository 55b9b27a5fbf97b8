import type { Command } from 'commander';

/** Each subcommand registers itself on the root program. Add new commands here. */
export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [];
