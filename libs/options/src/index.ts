export { UsageError, type UsageErrorCode } from './usage-error.ts';
export {
  choice,
  decimal,
  integer,
  limit,
  list,
  longFlag,
  settingsFile,
  text,
  toggle,
  type OptionKind,
  type OptionSpec,
  type Present,
  type SpecOptions,
} from './option-spec.ts';
export {
  defineOptions,
  envVariable,
  schemaEntries,
  type OptionGroup,
  type OptionLayer,
  type OptionSchema,
  type OptionValues,
  type PartialOptionValues,
  type SchemaEntry,
} from './option-schema.ts';
export { addOptions, commanderOption, givenByUser, type AddOptionsSettings } from './commander-options.ts';
export { readSettingsFile } from './settings-file.ts';
export { defaultValues, resolveOptions } from './resolve-options.ts';
export { toArgv } from './to-argv.ts';
export { checkValues } from './check-values.ts';
