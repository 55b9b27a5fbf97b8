import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadRunFile } from '@rlsa/aggregator';
import { readSettingsFile } from '@rlsa/options';
import { AGGREGATOR_COMMAND_OPTIONS } from '@rlsa/cli/commands/aggregator';
import { runFileText } from '../scripts/make-run-file.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '@rlsa/cli/program';
import {
  composeSettings,
  dockerfileSettings,
  findDrift,
  kubernetesSettings,
  missingRequired,
  systemdSettings,
  type Setting,
} from './deploy-settings.ts';

/**
 * The deployment files must not drift from the code: every flag, RLSA_* variable and --config key
 * that the Compose file, the Kubernetes manifests, the systemd unit and the Dockerfiles hand to
 * `rlsa aggregator` / `rlsa trainer` is an option those commands register, with an allowed value,
 * and every workload is given each mandatory option.
 */
const deploy = join(import.meta.dirname, '..');
const k8sFiles = readdirSync(join(deploy, 'k8s'))
  .filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')
  .map((name) => join(deploy, 'k8s', name));

let program: Command;
beforeAll(() => {
  program = buildProgram();
});

const count = (settings: readonly Setting[], command: string): number => settings.filter((setting) => setting.command === command).length;

describe('deployment files against the registered commands', () => {
  it('the Compose file passes only settings `rlsa aggregator` and `rlsa trainer` accept', () => {
    const settings = composeSettings(join(deploy, 'compose', 'compose.yaml'));
    expect(count(settings, 'aggregator')).toBeGreaterThanOrEqual(10);
    expect(count(settings, 'trainer')).toBeGreaterThanOrEqual(3 * 12);
    expect(findDrift(program, settings)).toEqual([]);
    expect(missingRequired(program, settings)).toEqual([]);
  });

  it('the Kubernetes manifests pass only accepted flags, variables and config keys', () => {
    const settings = kubernetesSettings(k8sFiles);
    expect(settings.filter((setting) => setting.kind === 'config' && setting.command === 'aggregator').length).toBeGreaterThanOrEqual(10);
    expect(count(settings, 'trainer')).toBeGreaterThanOrEqual(3 * 12);
    expect(findDrift(program, settings)).toEqual([]);
    expect(missingRequired(program, settings)).toEqual([]);
  });

  it('the systemd unit and its environment file pass only accepted settings', () => {
    const settings = systemdSettings(join(deploy, 'systemd', 'rlsa-aggregator.service'));
    expect(settings.filter((setting) => setting.kind === 'flag').map((setting) => setting.name)).toEqual([
      '--data-dir', '--tls-cert', '--tls-key', '--client-ca', '--tokens-file',
    ]);
    expect(settings.filter((setting) => setting.kind === 'env').length).toBeGreaterThanOrEqual(5);
    expect(findDrift(program, settings)).toEqual([]);
    expect(missingRequired(program, settings)).toEqual([]);
  });

  it('the Dockerfiles bake in only accepted variables', () => {
    const settings = ['aggregator.Dockerfile', 'trainer.Dockerfile'].flatMap((name) => dockerfileSettings(join(deploy, 'docker', name)));
    expect(count(settings, 'aggregator')).toBeGreaterThanOrEqual(5);
    expect(count(settings, 'trainer')).toBeGreaterThanOrEqual(2);
    expect(findDrift(program, settings)).toEqual([]);
  });

  it('catches drift: an unknown flag, variable, config key, command or choice is reported', () => {
    const base = { workload: 'test', where: 'test' };
    const problems = findDrift(program, [
      { ...base, command: 'aggregator', kind: 'flag', name: '--no-such-flag', value: '1' },
      { ...base, command: 'trainer', kind: 'env', name: 'RLSA_NO_SUCH_SETTING', value: '1' },
      { ...base, command: 'aggregator', kind: 'config', name: 'noSuchKey', value: '1' },
      { ...base, command: 'no-such-command', kind: 'flag', name: '--port', value: '1' },
      { ...base, command: 'trainer', kind: 'env', name: 'RLSA_DATASET', value: 'imagenet' },
    ]);
    expect(problems).toHaveLength(5);
    expect(missingRequired(program, [{ ...base, command: 'trainer', kind: 'env', name: 'RLSA_SEED', value: '1' }])).toEqual(
      // --dataset is one of three ways to name the data (--data, --model embeddings:), checked by the node itself.
      ['--run', '--node-id', '--model'].map((flag) => `test: \`rlsa trainer\` needs ${flag}, which it is not given`),
    );
    expect(missingRequired(program, [{ ...base, command: 'aggregator', kind: 'env', name: 'RLSA_PORT', value: '1' }])).toEqual([
      'test: `rlsa aggregator` needs --data-dir, which it is not given',
    ]);
  });

  it('the probes, the scrape annotations and the Services point at the ports the aggregator is told to open', () => {
    const objects = kubernetesObjects() as unknown as K8sWorkload[];
    const configMap = objects.find((object) => object.kind === 'ConfigMap');
    const config = YAML.parse(configMap?.data?.['config.yaml'] ?? '{}') as { port: number; healthPort: number; metricsPort: number };
    const statefulSet = objects.find((object) => object.kind === 'StatefulSet');
    const pod = statefulSet?.spec?.template?.spec;
    const container = pod?.containers[0];
    const ports = new Map((container?.ports ?? []).map((port) => [port.name, port.containerPort]));
    expect(ports).toEqual(new Map([['grpc', config.port], ['health', config.healthPort], ['metrics', config.metricsPort]]));
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) expect(container?.[probe]?.grpc?.port).toBe(config.healthPort);
    expect(statefulSet?.spec?.template?.metadata?.annotations?.['prometheus.io/port']).toBe(String(config.metricsPort));
    for (const service of objects.filter((object) => object.kind === 'Service')) {
      for (const port of service.spec?.ports ?? []) expect(ports.has(String(port.targetPort)), `${service.metadata.name} → ${port.targetPort}`).toBe(true);
    }
  });

  it('the run files of the Compose file and the ConfigMap are the synthetic data set\'s current anchors and load in the aggregator', async () => {
    const expected = runFileText({ dataset: 'synthetic', run: 'demo' });
    const composeRun = readFileSync(join(deploy, 'compose', 'run.yaml'), 'utf8');
    const configMap = kubernetesObjects().find((object) => object.kind === 'ConfigMap');
    const data = configMap?.data ?? {};
    // On a difference: npx tsx deploy/scripts/make-run-file.ts --update-deploy
    expect(composeRun).toBe(expected);
    expect(data['run.yaml']).toBe(expected);
    const scratch = mkdtempSync(join(tmpdir(), 'rlsa-drift-'));
    try {
      writeFileSync(join(scratch, 'run.yaml'), expected);
      writeFileSync(join(scratch, 'config.yaml'), data['config.yaml'] ?? '');
      const [run] = await loadRunFile(join(scratch, 'run.yaml'));
      expect(run?.runId).toBe('demo');
      const anchors = run?.anchors?.source;
      expect(anchors).toMatchObject({ case: 'builtin', value: { dataset: 'synthetic' } });
      expect(anchors?.case === 'builtin' ? anchors.value.sampleIds : []).toHaveLength(256);
      expect(Object.keys(readSettingsFile(join(scratch, 'config.yaml'), AGGREGATOR_COMMAND_OPTIONS))).toContain('healthPort');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});

function kubernetesObjects(): { kind: string; data?: Record<string, string> }[] {
  return k8sFiles.flatMap((path) => YAML.parseAllDocuments(readFileSync(path, 'utf8')).map((document) => document.toJSON() as { kind: string }));
}

interface K8sWorkload {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: {
    ports?: { targetPort: string | number }[];
    template?: {
      metadata?: { annotations?: Record<string, string> };
      spec: {
        containers: ({ ports?: { name: string; containerPort: number }[] } & Partial<Record<'startupProbe' | 'readinessProbe' | 'livenessProbe', { grpc?: { port: number } }>>)[];
      };
    };
  };
}
