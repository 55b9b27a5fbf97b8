import { schemaEntries, type OptionSchema, type PartialOptionValues } from './option-schema.ts';
import { longFlag } from './option-spec.ts';
import { UsageError } from './usage-error.ts';

/**
 * Checks values given in code (not parsed from text) against their options: each must be what its
 * flag's text would parse to (an integer in range, one of the choices...), and required ones must be
 * there. Throws the UsageError the command line would give for the same value.
 */
export function checkValues<S extends OptionSchema>(schema: S, values: PartialOptionValues<S>): void {
  const groups = values as Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;
  for (const { group, key, spec } of schemaEntries(schema)) {
    const value = groups[group]?.[key];
    if (value === undefined) {
      if (spec.required) throw new UsageError('missing_option', `${longFlag(spec)} is required`);
      continue;
    }
    if (spec.kind === 'value' || spec.kind === 'settings-file') {
      const parsed = typeof value === 'string' || typeof value === 'number' ? spec.parse(String(value)) : undefined;
      if (parsed !== value) throw new UsageError('invalid_value', `${longFlag(spec)} cannot be ${JSON.stringify(value)}`);
    } else if (spec.kind === 'list' ? !Array.isArray(value) : typeof value !== 'boolean') {
      throw new UsageError('invalid_value', `${longFlag(spec)} cannot be ${JSON.stringify(value)}`);
    }
  }
}
