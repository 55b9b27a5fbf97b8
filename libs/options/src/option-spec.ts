import { UsageError } from './usage-error.ts';

/**
 * How an option takes its value: `value` (`--epochs 3`), `switch` (`--upload-absolute`, off by
 * default), `negatable` (`--no-probe`, on by default), `list` (repeatable and comma-separated,
 * `--run-file a.yaml,b.yaml`), `settings-file` (`--config FILE`, read before the other options resolve).
 */
export type OptionKind = 'value' | 'switch' | 'negatable' | 'list' | 'settings-file';

/**
 * One option of a command, declared once: from it come the commander option (flags, help, help
 * group, RLSA_* variable, choices, parser, default), the settings-file key, validation and `toArgv`.
 * `T` is the parsed value; `P` whether it is always there once resolved (a default, or required).
 */
export interface OptionSpec<T = unknown, P extends boolean = boolean> {
  /** commander's flags: `--batch-size <b>`, `--upload-absolute`, `--no-probe`. */
  readonly flags: string;
  readonly help: string;
  readonly kind: OptionKind;
  /** Text from a flag, an RLSA_* variable or a settings file → the value; throws a UsageError naming the flag. */
  readonly parse: (text: string) => T;
  /** The allowed values (a choice option). */
  readonly choices?: readonly string[];
  readonly default?: T;
  /** How help shows the default when not as its value (`all` for a limit's undefined). */
  readonly defaultLabel?: string;
  /** Must be given (by flag, variable or settings file): the command refuses to start without it. */
  readonly required: boolean;
  readonly present: P;
  /** Whether the option may come from RLSA_<FLAG> (commands that read no environment turn it off for all). */
  readonly env: boolean;
  /** Whether a settings file (`--config`) may set it. */
  readonly inSettingsFile: boolean;
}

/** What every builder accepts beside the flags and the help. */
export interface SpecOptions<T> {
  readonly default?: T;
  readonly defaultLabel?: string;
  readonly required?: boolean;
  readonly env?: boolean;
  readonly inSettingsFile?: boolean;
}

/** Whether a builder's options make the value always present: a default, or required. */
export type Present<O> = O extends { readonly default: unknown } ? true : O extends { readonly required: true } ? true : false;

/** The long flag of a spec: `--batch-size` of `--batch-size <b>`. */
export function longFlag(spec: Pick<OptionSpec, 'flags'>): string {
  const long = /--[A-Za-z0-9-]+/.exec(spec.flags)?.[0];
  if (long === undefined) throw new Error(`option flags "${spec.flags}" have no --long flag`);
  return long;
}

function spec<T, O extends SpecOptions<T>>(flags: string, help: string, kind: OptionKind, parse: (text: string) => T, options: O | undefined, extra: { readonly choices?: readonly string[] } = {}): OptionSpec<T, Present<O>> {
  const o: SpecOptions<T> = options ?? {};
  return {
    flags,
    help,
    kind,
    parse,
    required: o.required === true,
    present: (o.default !== undefined || o.required === true) as Present<O>,
    env: o.env ?? true,
    inSettingsFile: o.inSettingsFile ?? true,
    ...(o.default !== undefined ? { default: o.default } : {}),
    ...(o.defaultLabel !== undefined ? { defaultLabel: o.defaultLabel } : {}),
    ...extra,
  };
}

/** A free text value (an address, an id, a path). */
export function text<const O extends SpecOptions<string>>(flags: string, help: string, options?: O): OptionSpec<string, Present<O>> {
  return spec(flags, help, 'value', (value) => value, options);
}

/** An integer in [`min`, `max`] (default: any integer). */
export function integer<const O extends SpecOptions<number> & { readonly min?: number; readonly max?: number }>(flags: string, help: string, options?: O): OptionSpec<number, Present<O>> {
  return spec(flags, help, 'value', (value) => parseInteger(value, flags, options?.min, options?.max), options);
}

/** An integer ≥ `min`, or `all` (undefined: no limit). */
export function limit<const O extends SpecOptions<number | undefined> & { readonly min?: number }>(
  flags: string,
  help: string,
  options?: O,
): OptionSpec<number | undefined, Present<O>> {
  const min = options?.min;
  return spec(flags, help, 'value', (value) => (value === 'all' ? undefined : parseInteger(value, flags, min)), options);
}

/** A finite number that `accept` takes, `expected` saying which in the error (`a positive number`). */
export function decimal<const O extends SpecOptions<number> & { readonly accept: (n: number) => boolean; readonly expected: string }>(
  flags: string,
  help: string,
  options: O,
): OptionSpec<number, Present<O>> {
  return spec(
    flags,
    help,
    'value',
    (value) => {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || !options.accept(n)) throw new UsageError('invalid_value', `${longFlag({ flags })} must be ${options.expected}, got ${JSON.stringify(value)}`);
      return n;
    },
    options,
  );
}

/** One of `choices` (an `as const` list: the value's type is its union). */
export function choice<const C extends readonly string[], const O extends SpecOptions<C[number]>>(flags: string, help: string, choices: C, options?: O): OptionSpec<C[number], Present<O>> {
  const parse = (value: string): C[number] => {
    if (!choices.includes(value)) throw new UsageError('invalid_value', `${longFlag({ flags })} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
    return value;
  };
  return spec(flags, help, 'value', parse, options, { choices });
}

/** A switch: off unless given (`--upload-absolute`); a `--no-...` flag is on unless given. */
export function toggle<const O extends Omit<SpecOptions<boolean>, 'default' | 'required'>>(flags: string, help: string, options?: O): OptionSpec<boolean, true> {
  const negatable = longFlag({ flags }).startsWith('--no-');
  const parse = (value: string): boolean => {
    if (value === 'true' || value === 'false') return value === 'true';
    throw new UsageError('invalid_value', `${longFlag({ flags })} must be true or false, got ${JSON.stringify(value)}`);
  };
  return spec(flags, help, negatable ? 'negatable' : 'switch', parse, { ...options, default: negatable }) as OptionSpec<boolean, true>;
}

/** Repeatable and comma-separated (`--run-file a,b --run-file c`): the values in order, empty by default. */
export function list<const O extends Omit<SpecOptions<readonly string[]>, 'default'>>(flags: string, help: string, options?: O): OptionSpec<readonly string[], true> {
  const parse = (value: string): readonly string[] => value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  const empty: readonly string[] = [];
  return spec(flags, help, 'list', parse, { ...options, default: empty }) as OptionSpec<readonly string[], true>;
}

/** `--config FILE`: a YAML/JSON mapping of settings (camelCase option names), below flags and variables. */
export function settingsFile(flags: string, help: string): OptionSpec<string, false> {
  return spec(flags, help, 'settings-file', (value) => value, { inSettingsFile: false });
}

function parseInteger(value: string, flags: string, min: number | undefined, max?: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
    const range = min !== undefined && max !== undefined ? `an integer in ${min}..${max}` : min !== undefined ? `an integer ≥ ${min}` : 'an integer';
    throw new UsageError('invalid_value', `${longFlag({ flags })} must be ${range}, got ${JSON.stringify(value)}`);
  }
  return n;
}
