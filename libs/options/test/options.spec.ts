import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addOptions,
  choice,
  decimal,
  defineOptions,
  givenByUser,
  integer,
  limit,
  list,
  resolveOptions,
  settingsFile,
  text,
  toArgv,
  toggle,
  checkValues,
  defaultValues,
  UsageError,
  type OptionValues,
  type PartialOptionValues,
} from '../src/index.ts';

const SHAPES = ['circle', 'square'] as const;

const SCHEMA = defineOptions({
  who: {
    heading: 'Who:',
    options: {
      name: text('--name <name>', 'a name', { required: true }),
      shape: choice('--shape <shape>', 'a shape', SHAPES, { default: 'circle' }),
    },
  },
  how: {
    heading: 'How:',
    options: {
      count: integer('--count <n>', 'how many', { min: 1, default: 3 }),
      offset: integer('--offset <n>', 'any integer'),
      rate: decimal('--rate <r>', 'a rate', { accept: (n) => n > 0, expected: 'a positive number', default: 0.5 }),
      cap: limit('--cap <n|all>', 'at most', { min: 1, default: 10 }),
      loud: toggle('--loud', 'louder'),
      quiet: toggle('--no-quiet', 'not quiet'),
      file: list('--file <f>', 'files, repeatable'),
    },
  },
  process: { heading: 'Process:', options: { config: settingsFile('--config <file>', 'settings file') } },
});
type Values = OptionValues<typeof SCHEMA>;

const dir = mkdtempSync(join(tmpdir(), 'rlsa-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Parses argv with `env` as the process environment; resolves the values (or the error). */
async function parse(argv: readonly string[], env: Record<string, string> = {}, layers: Record<string, unknown>[] = []): Promise<{ values: Values; command: Command }> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    let values: Values | undefined;
    let command: Command | undefined;
    const program = new Command('test').exitOverride();
    addOptions(program, SCHEMA).action((_opts: unknown, cmd: Command) => {
      command = cmd;
      values = resolveOptions(cmd, SCHEMA, layers);
    });
    await program.parseAsync(['node', 'test', ...argv]);
    return { values: values!, command: command! };
  } finally {
    for (const key of Object.keys(env)) if (!(key in saved)) delete process.env[key];
  }
}

async function usageError(promise: Promise<unknown>): Promise<UsageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

describe('an option schema', () => {
  it('gives typed, grouped values with the defaults', async () => {
    const { values } = await parse(['--name', 'x']);
    expect(values).toEqual({
      who: { name: 'x', shape: 'circle' },
      how: { count: 3, offset: undefined, rate: 0.5, cap: 10, loud: false, quiet: true, file: [] },
      process: { config: undefined },
    });
  });

  it('takes flag > RLSA_* variable > settings file > layers > default', async () => {
    const config = join(dir, 'settings.yaml');
    writeFileSync(config, 'name: from-file\ncount: 7\nrate: 2\nloud: true\nfile: [a, b]\nshape: square\n');
    const { values, command } = await parse(['--config', config, '--count', '9'], { RLSA_RATE: '4', RLSA_OFFSET: '-2' }, [{ count: 100, offset: 5, cap: undefined, shape: 'circle' }]);
    expect(values.who).toEqual({ name: 'from-file', shape: 'square' }); // file over layer
    expect(values.how.count).toBe(9); // flag over file
    expect(values.how.rate).toBe(4); // variable over file
    expect(values.how.offset).toBe(-2); // variable over layer
    expect(values.how.cap).toBeUndefined(); // the layer's explicit "all" over the default
    expect(values.how.loud).toBe(true);
    expect(values.how.file).toEqual(['a', 'b']);
    expect(givenByUser(command, 'count')).toBe(true);
    expect(givenByUser(command, 'cap')).toBe(false);
  });

  it('collects a list from repeated and comma-separated flags and from its variable', async () => {
    expect((await parse(['--name', 'x', '--file', 'a,b', '--file', 'c'])).values.how.file).toEqual(['a', 'b', 'c']);
    expect((await parse(['--name', 'x'], { RLSA_FILE: 'p,q' })).values.how.file).toEqual(['p', 'q']);
  });

  it('refuses bad values, unknown settings and missing required options in one line naming the flag or file', async () => {
    expect((await usageError(parse(['--name', 'x', '--count', '0']))).message).toBe('--count must be an integer ≥ 1, got "0"');
    expect((await usageError(parse(['--name', 'x', '--rate', '-1']))).message).toBe('--rate must be a positive number, got "-1"');
    expect((await usageError(parse(['--name', 'x', '--offset', '1.5']))).message).toBe('--offset must be an integer, got "1.5"');
    const missing = await usageError(parse([]));
    expect([missing.code, missing.message]).toEqual(['missing_option', '--name is required']);
    const unknown = join(dir, 'unknown.yaml');
    writeFileSync(unknown, 'name: x\nnmae: y\n');
    const refused = await usageError(parse(['--config', unknown]));
    expect([refused.code, refused.message]).toEqual(['unknown_setting', `${unknown}: unknown setting "nmae"`]);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: x\nshape: hexagon\n');
    expect((await usageError(parse(['--config', bad]))).message).toBe(`${bad}: --shape must be one of circle, square, got "hexagon"`);
    const list = join(dir, 'list.yaml');
    writeFileSync(list, '- name\n');
    expect((await usageError(parse(['--config', list]))).code).toBe('bad_settings_file');
    expect((await usageError(parse(['--config', join(dir, 'none.yaml')]))).code).toBe('bad_settings_file');
    // A bad value is user-facing: the command line prints it as one line.
    expect(missing.userFacing).toBe(true);
  });

  it('refuses a key that is not its flag’s camelCase name, and a key declared twice', () => {
    expect(() => defineOptions({ g: { heading: 'G', options: { batch: integer('--batch-size <n>', 'x') } } })).toThrow(/names it "batchSize"/);
    expect(() =>
      defineOptions({ a: { heading: 'A', options: { seed: integer('--seed <n>', 'x') } }, b: { heading: 'B', options: { seed: integer('--seed <n>', 'y') } } }),
    ).toThrow(/declared twice/);
  });

  it('registers help groups, variables, choices and "(required)" with commander', () => {
    const command = addOptions(new Command('x'), SCHEMA);
    const shape = command.options.find((o) => o.long === '--shape')!;
    expect(shape.envVar).toBe('RLSA_SHAPE');
    expect(shape.argChoices).toEqual(['circle', 'square']);
    expect(shape.helpGroupHeading).toBe('Who:');
    expect(command.options.find((o) => o.long === '--name')!.description).toBe('a name (required)');
    const quiet = addOptions(new Command('y'), SCHEMA, { environment: false });
    expect(quiet.options.every((o) => o.envVar === undefined)).toBe(true);
  });
});

describe('toArgv', () => {
  it('turns values back into flags in schema order, leaving out what is undefined and switches at their default', () => {
    const values: PartialOptionValues<typeof SCHEMA> = { how: { count: 2, loud: true, quiet: false, file: ['a', 'b'], cap: undefined }, who: { name: 'n' } };
    expect(toArgv(SCHEMA, values)).toEqual(['--name', 'n', '--count', '2', '--loud', '--no-quiet', '--file', 'a', '--file', 'b']);
    expect(toArgv(SCHEMA, { how: { loud: false, quiet: true } })).toEqual([]);
  });

  it('round-trips: resolving the argv of any values gives the values back', async () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          who: fc.record({ name, shape: fc.constantFrom(...SHAPES) }),
          how: fc.record({
            count: fc.integer({ min: 1, max: 1e6 }),
            offset: fc.option(fc.integer({ min: -1e6, max: 1e6 }), { nil: undefined }),
            rate: fc.double({ min: 1e-9, max: 1e9, noNaN: true }),
            cap: fc.integer({ min: 1, max: 1e6 }),
            loud: fc.boolean(),
            quiet: fc.boolean(),
            file: fc.array(name, { maxLength: 3 }),
          }),
          process: fc.constant({ config: undefined }),
        }),
        async (values) => {
          const { values: back } = await parse(toArgv(SCHEMA, values));
          expect(back).toEqual(values);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('checkValues and defaultValues', () => {
  it('accept what the flags would give and refuse, with the flag’s message, what they would not', () => {
    expect(() => checkValues(SCHEMA, { who: { name: 'n', shape: 'square' }, how: { count: 2, rate: 0.25, loud: true, file: ['a'] } })).not.toThrow();
    expect(() => checkValues(SCHEMA, { who: { name: 'n', shape: 'hexagon' as never } })).toThrow('--shape must be one of circle, square, got "hexagon"');
    expect(() => checkValues(SCHEMA, { who: { name: 'n' }, how: { count: 0 } })).toThrow('--count must be an integer ≥ 1, got "0"');
    expect(() => checkValues(SCHEMA, { who: { name: 'n' }, how: { count: 1.5 } })).toThrow(UsageError);
    expect(() => checkValues(SCHEMA, { how: { count: 2 } })).toThrow('--name is required');
  });

  it('gives the values of a command given nothing', async () => {
    const { values } = await parse(['--name', 'x']);
    expect(defaultValues(SCHEMA)).toEqual({ ...values, who: { ...values.who, name: undefined } });
  });
});
