import { Option, type Command } from 'commander';
import { envVariable, schemaEntries, type OptionSchema } from './option-schema.ts';
import type { OptionSpec } from './option-spec.ts';

/** How `addOptions` registers a schema. */
export interface AddOptionsSettings {
  /** Bind options to their RLSA_* variables (default true; `rlsa simulate` reads none: its children's variables are its own). */
  readonly environment?: boolean;
}

/** The commander option of a spec, under its group's help heading. */
export function commanderOption(spec: OptionSpec<unknown>, heading: string, settings: AddOptionsSettings = {}): Option {
  const help = spec.required ? `${spec.help} (required)` : spec.help;
  const option = new Option(spec.flags, help).helpGroup(heading);
  if (spec.env && settings.environment !== false) option.env(envVariable(spec));
  if (spec.choices !== undefined) option.choices(spec.choices);
  else if (spec.kind === 'value' || spec.kind === 'settings-file') option.argParser((text: string) => spec.parse(text));
  else if (spec.kind === 'list') option.argParser((text: string, previous: unknown) => [...(Array.isArray(previous) ? previous : []), ...(spec.parse(text) as readonly string[])]);
  // commander gives a `--no-...` option its `true` default itself.
  if (spec.default !== undefined && spec.kind !== 'negatable') option.default(spec.default, spec.defaultLabel);
  else if (spec.defaultLabel !== undefined) option.default(undefined, spec.defaultLabel);
  return option;
}

/** Registers every option of `schema` on `command` (flags, help groups, variables, choices, parsers, defaults). */
export function addOptions(command: Command, schema: OptionSchema, settings: AddOptionsSettings = {}): Command {
  for (const { group, spec } of schemaEntries(schema)) command.addOption(commanderOption(spec, schema[group]!.heading, settings));
  return command;
}

/** Whether the user set an option (on the command line, in its variable or in a settings file) rather than its default. */
export function givenByUser(command: Command, key: string): boolean {
  const source = command.getOptionValueSource(key);
  return source === 'cli' || source === 'env' || source === 'config';
}
