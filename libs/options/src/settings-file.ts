import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { schemaEntries, type OptionSchema } from './option-schema.ts';
import type { OptionSpec } from './option-spec.ts';
import { UsageError } from './usage-error.ts';

/** A settings-file value as the option's text: YAML numbers and booleans as commander would have seen them. */
function parseSetting(spec: OptionSpec<unknown>, raw: unknown, path: string, key: string): unknown {
  try {
    if (spec.kind === 'list') return (Array.isArray(raw) ? raw : [raw]).flatMap((item) => spec.parse(String(item)) as readonly string[]);
    if (typeof raw === 'object') throw new UsageError('invalid_value', `${key} must be a single value, got ${JSON.stringify(raw)}`);
    return spec.parse(String(raw));
  } catch (error: unknown) {
    if (error instanceof UsageError) throw new UsageError(error.code, `${path}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Reads a settings file (YAML or JSON): a mapping from option keys (camelCase flag names) to values,
 * each parsed as its option's text would be. A key that is no option of `schema` is refused
 * (`<path>: unknown setting "<key>"`); an empty file is no settings; `key: null` leaves the option unset.
 */
export function readSettingsFile(path: string, schema: OptionSchema): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error: unknown) {
    throw new UsageError('bad_settings_file', `${path}: cannot read the config file (${(error as Error).message})`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(text) as unknown;
  } catch (error: unknown) {
    throw new UsageError('bad_settings_file', `${path}: not valid YAML/JSON (${(error as Error).message})`, { cause: error });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('bad_settings_file', `${path}: the config file must be a mapping of settings`);
  const specs = new Map(schemaEntries(schema).filter(({ spec }) => spec.inSettingsFile).map(({ key, spec }) => [key, spec]));
  const settings: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(parsed)) {
    const spec = specs.get(key);
    if (spec === undefined) throw new UsageError('unknown_setting', `${path}: unknown setting "${key}"`);
    if (raw !== null) settings[key] = parseSetting(spec, raw, path, key);
  }
  return settings;
}
