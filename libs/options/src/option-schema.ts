import { Option } from 'commander';
import { longFlag, type OptionSpec } from './option-spec.ts';

/** Options that belong together (the help shows them under `heading`; the values come grouped). */
export interface OptionGroup {
  readonly heading: string;
  readonly options: Readonly<Record<string, OptionSpec<unknown>>>;
}

/**
 * A command's options by group. Each option's key is its camelCase name (commander's attribute
 * name, `batchSize` for `--batch-size`): the key of its value, of its settings-file entry and of
 * its RLSA_* variable (`RLSA_BATCH_SIZE`).
 */
export type OptionSchema = Readonly<Record<string, OptionGroup>>;

type SpecValue<S> = S extends OptionSpec<infer T, boolean> ? T : never;
type PresentKeys<O> = { [K in keyof O]: O[K] extends { readonly present: true } ? K : never }[keyof O];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type GroupValues<O> = Simplify<
  { readonly [K in PresentKeys<O>]: SpecValue<O[K]> } & { readonly [K in Exclude<keyof O, PresentKeys<O>>]?: SpecValue<O[K]> | undefined }
>;

/** The resolved values of a schema, by group: `values.training.epochs`. Options without a default and not required may be undefined. */
export type OptionValues<S extends OptionSchema> = { readonly [G in keyof S]: GroupValues<S[G]['options']> };

/** Any subset of a schema's values (what `toArgv` turns back into flags). */
export type PartialOptionValues<S extends OptionSchema> = {
  readonly [G in keyof S]?: { readonly [K in keyof S[G]['options']]?: SpecValue<S[G]['options'][K]> | undefined };
};

type GroupOptions<S extends OptionSchema> = { [G in keyof S]: S[G]['options'] }[keyof S];
type KeysOf<O> = O extends unknown ? keyof O : never;
type ValueAt<O, K extends PropertyKey> = O extends { readonly [P in K]: infer Spec } ? SpecValue<Spec> : never;

/**
 * Values by option key, groups flattened (`{ epochs: 3, maxSamples: undefined }`): a layer below the
 * command line, such as a preset's run. A key it holds is set, even to undefined.
 */
export type OptionLayer<S extends OptionSchema> = { readonly [K in KeysOf<GroupOptions<S>>]?: ValueAt<GroupOptions<S>, K> };

/** One option with its key and group. */
export interface SchemaEntry {
  readonly group: string;
  readonly key: string;
  readonly spec: OptionSpec<unknown>;
}

/** Every option of a schema in declaration order. */
export function schemaEntries(schema: OptionSchema): SchemaEntry[] {
  return Object.entries(schema).flatMap(([group, { options }]) => Object.entries(options).map(([key, spec]) => ({ group, key, spec })));
}

/**
 * Checks a schema once, where it is declared: each key is its flag's camelCase name and appears
 * once across the groups (the settings file and the variables are flat). Returns it unchanged,
 * with its literal types for `OptionValues`.
 */
export function defineOptions<const S extends OptionSchema>(schema: S): S {
  const seen = new Set<string>();
  for (const { group, key, spec } of schemaEntries(schema)) {
    const attribute = new Option(spec.flags).attributeName();
    if (attribute !== key) throw new Error(`option ${group}.${key}: its flag ${longFlag(spec)} names it "${attribute}"`);
    if (seen.has(key)) throw new Error(`option ${key} is declared twice`);
    seen.add(key);
  }
  return schema;
}

/** `--batch-size` → `RLSA_BATCH_SIZE`: the variable an option is read from. */
export function envVariable(spec: Pick<OptionSpec, 'flags'>): string {
  return `RLSA_${longFlag(spec).slice(2).replace(/-/g, '_').toUpperCase()}`;
}
