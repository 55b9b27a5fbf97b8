import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command, Option } from 'commander';
import YAML from 'yaml';

/** One setting a deployment file hands to `rlsa <command>`, and where it is written. */
export interface Setting {
  /** The subcommand the settings go to: `aggregator` or `trainer`. */
  readonly command: string;
  /** `flag` (`--foo-bar`), `env` (`RLSA_FOO_BAR`) or `config` (`fooBar` in a --config file). */
  readonly kind: 'flag' | 'env' | 'config';
  /** As written: `--foo-bar`, `RLSA_FOO_BAR` or `fooBar`. */
  readonly name: string;
  /** The value, when one is written (`${VAR:-default}` resolved to its default). */
  readonly value?: string;
  /** File and place, for the failure message. */
  readonly where: string;
  /** The program instance it configures (a Compose service, a k8s container, a unit, an image). */
  readonly workload: string;
}

/** `RLSA_FOO_BAR` → `--foo-bar`, the CLI convention for settings from the environment. */
export function envToFlag(name: string): string {
  return `--${name.replace(/^RLSA_/, '').toLowerCase().replaceAll('_', '-')}`;
}

/** `fooBar` → `--foo-bar`, the convention for --config file keys. */
export function configKeyToFlag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** Compose's `${VAR:-default}` / `${VAR-default}` → `default`; other text as it is. */
function resolveDefaults(value: string): string {
  return value.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}/g, '$1');
}

/** Flags (and their values) in an argument list that starts after the subcommand. */
function flagsIn(args: readonly string[], command: string, where: string, workload: string): Setting[] {
  const settings: Setting[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) continue;
    const [name, inline] = arg.split('=', 2) as [string, string | undefined];
    const next = args[i + 1];
    const value = inline ?? (next !== undefined && !next.startsWith('--') ? next : undefined);
    settings.push({ command, kind: 'flag', name, ...(value === undefined ? {} : { value }), where, workload });
  }
  return settings;
}

function envSettings(env: Record<string, unknown>, command: string, where: string, workload: string): Setting[] {
  return Object.entries(env)
    .filter(([name]) => name.startsWith('RLSA_'))
    .map(([name, value]) => ({ command, kind: 'env' as const, name, value: resolveDefaults(String(value)), where, workload }));
}

/** Reads one YAML file (all documents), with `<<` merge keys as Compose uses them. */
export function readYamlDocuments(path: string): unknown[] {
  return YAML.parseAllDocuments(readFileSync(path, 'utf8'), { merge: true }).map((document) => {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]?.message}`);
    return document.toJSON() as unknown;
  });
}

interface ComposeService {
  command?: string[] | string;
  environment?: Record<string, unknown> | string[];
}

/** Settings of every service of a Compose file: its `command` (subcommand first) and RLSA_* environment. */
export function composeSettings(path: string): Setting[] {
  const [compose] = readYamlDocuments(path) as [{ services: Record<string, ComposeService> }];
  const settings: Setting[] = [];
  for (const [service, spec] of Object.entries(compose.services)) {
    const command = typeof spec.command === 'string' ? spec.command.split(/\s+/) : (spec.command ?? []);
    const [subcommand, ...args] = command;
    if (subcommand === undefined) throw new Error(`${path}: service ${service} has no command`);
    const where = `${basename(path)} services.${service}`;
    const environment = Array.isArray(spec.environment)
      ? Object.fromEntries(spec.environment.map((line) => line.split('=', 2) as [string, string]))
      : (spec.environment ?? {});
    settings.push(...flagsIn(args, subcommand, where, where), ...envSettings(environment, subcommand, where, where));
  }
  return settings;
}

interface K8sContainer {
  name: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { template?: { spec: { containers: K8sContainer[]; volumes?: { name: string; configMap?: { name: string } }[] } } };
}

/**
 * Settings of every container of the workloads (StatefulSet, Deployment, Job) in Kubernetes manifests:
 * `args` (subcommand first, as the images' entrypoint is `rlsa`), RLSA_* env, and the keys of a
 * ConfigMap file passed as `--config`.
 */
export function kubernetesSettings(paths: readonly string[]): Setting[] {
  const objects = paths.flatMap((path) => readYamlDocuments(path).map((object) => ({ path, object: object as K8sObject })));
  const configMaps = new Map(objects.filter(({ object }) => object.kind === 'ConfigMap').map(({ object }) => [object.metadata.name, object]));
  const settings: Setting[] = [];
  for (const { path, object } of objects) {
    const pod = object.spec?.template?.spec;
    if (pod === undefined) continue;
    for (const container of pod.containers) {
      const [subcommand, ...args] = container.args ?? [];
      if (subcommand === undefined) throw new Error(`${path}: ${object.kind} ${object.metadata.name} has no args`);
      const where = `${basename(path)} ${object.kind}/${object.metadata.name} container ${container.name}`;
      const env = Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value ?? '']));
      const flags = flagsIn(args, subcommand, where, where);
      settings.push(...flags, ...envSettings(env, subcommand, where, where));
      const configPath = flags.find((flag) => flag.name === '--config')?.value;
      if (configPath === undefined) continue;
      const mount = (container.volumeMounts ?? []).find((candidate) => dirname(configPath) === candidate.mountPath);
      const volume = pod.volumes?.find((candidate) => candidate.name === mount?.name);
      const configMap = configMaps.get(volume?.configMap?.name ?? '');
      const text = configMap?.data?.[basename(configPath)];
      if (text === undefined) throw new Error(`${where}: --config ${configPath} is not a key of a mounted ConfigMap`);
      for (const [key, value] of Object.entries(YAML.parse(text) as Record<string, unknown>)) {
        settings.push({ command: subcommand, kind: 'config', name: key, value: String(value), where: `${where} --config ${configPath}`, workload: where });
      }
    }
  }
  return settings;
}

/**
 * Settings of a systemd unit's ExecStart (`... rlsa.mjs <subcommand> --flags`), its `Environment=` lines, and
 * the RLSA_* lines of the EnvironmentFile shipped beside it (same base name in the unit's directory).
 */
export function systemdSettings(unitPath: string): Setting[] {
  const text = readFileSync(unitPath, 'utf8').replace(/\\\n/g, ' ');
  const lines = text.split('\n').map((line) => line.trim());
  const execStart = lines.find((line) => line.startsWith('ExecStart='));
  if (execStart === undefined) throw new Error(`${unitPath}: no ExecStart`);
  const words = execStart.slice('ExecStart='.length).split(/\s+/).filter((word) => word !== '');
  const script = words.findIndex((word) => word.endsWith('/rlsa.mjs') || word.endsWith('/rlsa'));
  const subcommand = words[script + 1];
  if (script < 0 || subcommand === undefined) throw new Error(`${unitPath}: ExecStart does not run rlsa <command>`);
  const where = basename(unitPath);
  const settings = flagsIn(words.slice(script + 2), subcommand, `${where} ExecStart`, where);
  for (const line of lines.filter((candidate) => candidate.startsWith('Environment='))) {
    const [name, value] = line.slice('Environment='.length).replace(/^"|"$/g, '').split('=', 2) as [string, string];
    settings.push(...envSettings({ [name]: value }, subcommand, `${where} Environment=`, where));
  }
  for (const line of lines.filter((candidate) => candidate.startsWith('EnvironmentFile='))) {
    const shipped = join(dirname(unitPath), basename(line.slice('EnvironmentFile='.length).replace(/^-/, '')));
    settings.push(...envSettings(parseEnvFile(readFileSync(shipped, 'utf8')), subcommand, basename(shipped), where));
  }
  return settings;
}

/** Settings a Dockerfile bakes in: RLSA_* `ENV` lines, for the subcommand of its `CMD`. */
export function dockerfileSettings(path: string): Setting[] {
  const text = readFileSync(path, 'utf8').replace(/\\\n/g, ' ');
  const runtime = text.slice(text.lastIndexOf('\nFROM ')); // the final stage is what runs
  const cmd = /^CMD \[\s*"([^"]+)"/m.exec(runtime)?.[1];
  if (cmd === undefined) throw new Error(`${path}: no CMD ["<subcommand>"] in the final stage`);
  const env: Record<string, string> = {};
  for (const match of runtime.matchAll(/^ENV (.+)$/gm)) {
    for (const pair of (match[1] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) env[pair[1] ?? ''] = (pair[2] ?? '').replace(/^"|"$/g, '');
  }
  return envSettings(env, cmd, `${basename(path)} ENV`, basename(path));
}

/** `KEY=value` lines, `#` comments and blank lines ignored. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const equals = trimmed.indexOf('=');
    if (equals > 0) env[trimmed.slice(0, equals)] = trimmed.slice(equals + 1).replace(/^"|"$/g, '');
  }
  return env;
}

/**
 * What is wrong with `settings` against the registered commands: a subcommand that does not exist,
 * a flag, variable or config key that maps to no option, a value outside an option's choices, a flag
 * that needs a value without one. Empty when all is well.
 */
export function findDrift(program: Command, settings: readonly Setting[]): string[] {
  const problems: string[] = [];
  for (const setting of settings) {
    const command = program.commands.find((candidate) => candidate.name() === setting.command);
    if (command === undefined) {
      problems.push(`${setting.where}: \`rlsa ${setting.command}\` is not a registered command`);
      continue;
    }
    const flag = flagOf(setting);
    // An option bound to a variable with commander's `.env()` must be bound to this very name.
    const option: Option | undefined =
      setting.kind === 'env'
        ? command.options.find((candidate) => candidate.envVar === setting.name) ??
          command.options.find((candidate) => candidate.long === flag && candidate.envVar === undefined)
        : command.options.find((candidate) => candidate.long === flag);
    if (option === undefined) {
      problems.push(`${setting.where}: ${setting.name} → ${flag} is not an option of \`rlsa ${setting.command}\``);
      continue;
    }
    if (setting.kind === 'flag' && option.required && setting.value === undefined) {
      problems.push(`${setting.where}: ${flag} needs a value`);
    }
    if (option.argChoices !== undefined && setting.value !== undefined && !option.argChoices.includes(setting.value)) {
      problems.push(`${setting.where}: ${setting.name}=${setting.value} is not one of ${option.argChoices.join('|')}`);
    }
  }
  return problems;
}

/**
 * Whether a workload must set this option: commander's mandatory options, and those whose help says
 * "required" (options that may also come from the environment or a config file cannot be mandatory
 * for commander, so the commands check them themselves and say so in their help).
 */
export function isRequired(option: Option): boolean {
  return option.mandatory || /\brequired\b/.test(option.description);
}

/** Required options of each command that no setting of a workload supplies (by flag, env or config). */
export function missingRequired(program: Command, settings: readonly Setting[]): string[] {
  const problems: string[] = [];
  const byWorkload = new Map<string, Setting[]>();
  for (const setting of settings) byWorkload.set(setting.workload, [...(byWorkload.get(setting.workload) ?? []), setting]);
  for (const [workload, group] of byWorkload) {
    const name = group[0]?.command ?? '';
    const command = program.commands.find((candidate) => candidate.name() === name);
    if (command === undefined) continue;
    const given = new Set(group.map(flagOf));
    for (const option of command.options.filter(isRequired)) {
      if (option.long !== undefined && !given.has(option.long)) problems.push(`${workload}: \`rlsa ${name}\` needs ${option.long}, which it is not given`);
    }
  }
  return problems;
}

/** The flag a setting stands for. */
export function flagOf(setting: Setting): string {
  return setting.kind === 'flag' ? setting.name : setting.kind === 'env' ? envToFlag(setting.name) : configKeyToFlag(setting.name);
}
