import type { Command } from 'commander';
import { schemaEntries, type OptionLayer, type OptionSchema, type OptionValues } from './option-schema.ts';
import { longFlag } from './option-spec.ts';
import { readSettingsFile } from './settings-file.ts';
import { UsageError } from './usage-error.ts';

/**
 * The values of a command's options after parsing, by group. Precedence: flag > RLSA_* variable >
 * the settings file named by the schema's `settings-file` option (`--config`) > `layers`, in order
 * (a preset's run) > the default. A layer sets a key it holds even to undefined (a preset's "all").
 * Refuses an unknown settings-file key, a bad value (with the file's name) and a missing required option.
 */
export function resolveOptions<S extends OptionSchema>(command: Command, schema: S, layers: readonly OptionLayer<S>[] = []): OptionValues<S> {
  const flags = command.opts<Record<string, unknown>>();
  const entries = schemaEntries(schema);
  const fileKey = entries.find(({ spec }) => spec.kind === 'settings-file')?.key;
  const filePath = fileKey === undefined ? undefined : flags[fileKey];
  const below: readonly Readonly<Record<string, unknown>>[] = typeof filePath === 'string' ? [readSettingsFile(filePath, schema), ...layers] : layers;
  const values: Record<string, Record<string, unknown>> = Object.fromEntries(Object.keys(schema).map((group) => [group, {}]));
  for (const { group, key, spec } of entries) {
    const source = command.getOptionValueSource(key);
    const layer = source === 'cli' || source === 'env' ? undefined : below.find((candidate) => Object.hasOwn(candidate, key));
    const value = layer !== undefined ? layer[key] : flags[key];
    if (value === undefined && spec.required) throw new UsageError('missing_option', `${longFlag(spec)} is required`);
    values[group]![key] = value;
  }
  return values as OptionValues<S>;
}

/** A schema's defaults by group (undefined where an option has none): the values of a command given nothing. */
export function defaultValues<S extends OptionSchema>(schema: S): OptionValues<S> {
  const values: Record<string, Record<string, unknown>> = Object.fromEntries(Object.keys(schema).map((group) => [group, {}]));
  for (const { group, key, spec } of schemaEntries(schema)) values[group]![key] = spec.default;
  return values as OptionValues<S>;
}
