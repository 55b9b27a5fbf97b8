import { schemaEntries, type OptionSchema, type PartialOptionValues } from './option-schema.ts';
import { longFlag } from './option-spec.ts';

/**
 * Typed values back into the flags that give them (`{ training: { epochs: 3 } }` → `--epochs 3`),
 * in schema order: what a parent process passes to a child it starts. An undefined value is left
 * out (the child's default, or "all" for a limit); a switch only when on; a `--no-...` option only
 * when off; a list once per item. `resolveOptions` on the result gives the values back.
 */
export function toArgv<S extends OptionSchema>(schema: S, values: PartialOptionValues<S>): string[] {
  const argv: string[] = [];
  const groups = values as Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;
  for (const { group, key, spec } of schemaEntries(schema)) {
    const value = groups[group]?.[key];
    if (value === undefined) continue;
    const flag = longFlag(spec);
    if (spec.kind === 'switch') {
      if (value === true) argv.push(flag);
    } else if (spec.kind === 'negatable') {
      if (value === false) argv.push(flag);
    } else if (spec.kind === 'list') {
      for (const item of value as readonly string[]) argv.push(flag, item);
    } else {
      argv.push(flag, String(value));
    }
  }
  return argv;
}
