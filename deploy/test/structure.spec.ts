import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashToken, readTokensFile } from '@rlsa/ops';
import { readYamlDocuments } from './deploy-settings.ts';

/**
 * What can be checked of the deployment files without Docker or a cluster (neither exists on the
 * development machine): the rules the images and manifests promise, read from the files themselves.
 */
const deploy = join(import.meta.dirname, '..');
const repo = join(deploy, '..');

/** Dockerfile instructions of the last stage, line continuations joined. */
function finalStage(path: string): string[] {
  const lines = readFileSync(path, 'utf8').replace(/\\\n\s*/g, ' ').split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
  const from = lines.map((line, index) => (line.startsWith('FROM ') ? index : -1)).filter((index) => index >= 0);
  return lines.slice(from.at(-1));
}

describe.each(['aggregator', 'trainer'])('the %s image', (name) => {
  const path = join(deploy, 'docker', `${name}.Dockerfile`);
  const text = readFileSync(path, 'utf8');
  const runtime = finalStage(path);

  it('builds from node:20-slim in stages, installing production dependencies from the lock file', () => {
    expect(text).toMatch(/^ARG NODE_IMAGE=node:20-slim$/m);
    expect(text.match(/^FROM \$\{NODE_IMAGE\} AS \w+$/gm)?.length).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).not.toMatch(/npm install(?! -g npm@)/); // no unlocked installs
  });

  it('runs as a non-root numeric user, with a health check, the rlsa entry point and no build tools', () => {
    expect(runtime.find((line) => line.startsWith('USER '))).toBe('USER 10001:10001');
    expect(runtime.some((line) => line.startsWith('HEALTHCHECK ') && line.includes('/app/deploy/docker/healthcheck.mjs'))).toBe(true);
    expect(runtime).toContain('ENTRYPOINT ["node", "/app/apps/cli/bin/rlsa.mjs"]');
    expect(runtime).toContain(`CMD ["${name}"]`);
    expect(runtime.join('\n')).not.toMatch(/apt-get install|g\+\+|python3/);
  });

  it('keeps secrets and local state out of the build context, and the health check in', () => {
    const ignore = readFileSync(`${path}.dockerignore`, 'utf8').split('\n');
    for (const pattern of ['**/node_modules', '.git', '**/*.key', '**/*.token', '**/secrets']) expect(ignore).toContain(pattern);
    expect(ignore).toContain('!deploy/docker/healthcheck.mjs');
    expect(existsSync(join(deploy, 'docker', 'healthcheck.mjs'))).toBe(true);
  });
});

interface ComposeFile {
  services: Record<string, {
    build?: { context: string; dockerfile: string };
    environment?: Record<string, string>;
    secrets?: string[];
    volumes?: string[];
    read_only?: boolean;
    cap_drop?: string[];
    networks?: string[];
  }>;
  secrets: Record<string, { file: string }>;
  networks: Record<string, { internal?: boolean } | null>;
}

describe('the Compose file', () => {
  const composeDir = join(deploy, 'compose');
  const [compose] = readYamlDocuments(join(composeDir, 'compose.yaml')) as [ComposeFile];

  it('builds from existing Dockerfiles and mounts an existing run file', () => {
    for (const service of Object.values(compose.services)) {
      expect(existsSync(join(composeDir, service.build?.context ?? '', service.build?.dockerfile ?? ''))).toBe(true);
    }
    const binds = (compose.services['aggregator']?.volumes ?? []).filter((volume) => volume.startsWith('./'));
    expect(binds).toEqual(['./run.yaml:/etc/rlsa/run.yaml:ro']);
    for (const bind of binds) expect(existsSync(join(composeDir, bind.split(':')[0] ?? ''))).toBe(true);
    expect(join(composeDir, compose.services['aggregator']?.build?.context ?? '')).toBe(repo);
  });

  it('gives every file setting a secret the service mounts, and each node only its own', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      const mounted = new Set(service.secrets ?? []);
      for (const secret of mounted) expect(compose.secrets[secret], `${name}: secret ${secret}`).toBeDefined();
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (!value.startsWith('/run/secrets/')) continue;
        expect(mounted.has(value.slice('/run/secrets/'.length)), `${name}: ${variable}=${value}`).toBe(true);
      }
      if (name !== 'aggregator') {
        expect([...mounted].filter((secret) => secret !== 'ca.crt').every((secret) => secret.startsWith(`${name}.`)), name).toBe(true);
      }
    }
  });

  it('runs every container read-only without capabilities, each party on a network of its own besides the shared one', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.read_only, name).toBe(true);
      expect(service.cap_drop, name).toEqual(['ALL']);
      const own = (service.networks ?? []).filter((network) => network !== 'wan');
      if (name !== 'aggregator') {
        expect(own).toHaveLength(1);
        expect(compose.networks[own[0] ?? '']?.internal).toBe(true);
      }
    }
  });

  it('mounts exactly the files make-secrets.sh makes: keys and tokens for uid 10001, the CA key for nobody else', () => {
    const out = mkdtempSync(join(tmpdir(), 'rlsa-secrets-'));
    try {
      execFileSync('bash', [join(composeDir, 'make-secrets.sh')], { env: { ...process.env, RLSA_SECRETS_DIR: out }, stdio: 'ignore' });
      for (const secret of Object.values(compose.secrets)) expect(existsSync(join(out, secret.file.replace('./secrets/', ''))), secret.file).toBe(true);
      const tokens = readTokensFile(join(out, 'tokens.yaml'));
      for (const node of ['node-1', 'node-2', 'reference']) {
        expect(tokens.find((entry) => entry.subject === node)?.sha256).toBe(hashToken(readFileSync(join(out, `${node}.token`), 'utf8').trim()));
      }
      expect(tokens.find((entry) => entry.subject === 'operator')?.grants).toEqual([{ kind: 'admin' }]);
      expect(tokens.find((entry) => entry.subject === 'reference')?.grants).toEqual([{ kind: 'run', role: 'reference', runId: 'demo' }]);
      expect(statSync(join(out, 'ca.key')).mode & 0o077).toBe(0);
      if (process.getuid?.() === 0) {
        for (const file of ['aggregator.key', 'node-1.key', 'node-1.token']) expect([file, statSync(join(out, file)).uid, statSync(join(out, file)).mode & 0o777]).toEqual([file, 10001, 0o400]);
        expect(statSync(join(out, 'ca.key')).uid).toBe(0);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});

interface K8sPodOwner {
  kind: string;
  metadata: { name: string };
  spec: {
    template: {
      spec: {
        securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
        containers: {
          name: string;
          securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
          volumeMounts?: { name: string; mountPath: string }[];
          resources?: { limits?: { memory?: string } };
        }[];
        volumes?: { name: string; secret?: { secretName: string }; configMap?: { name: string } }[];
      };
    };
  };
}

describe('the Kubernetes manifests', () => {
  const files = readdirSync(join(deploy, 'k8s')).filter((name) => name.endsWith('.yaml'));
  const objects = files.filter((name) => name !== 'kustomization.yaml').flatMap((name) => readYamlDocuments(join(deploy, 'k8s', name))) as (K8sPodOwner & { kind: string })[];
  const workloads = objects.filter((object) => object.kind === 'StatefulSet' || object.kind === 'Job');

  it('list every manifest in the kustomization', () => {
    const [kustomization] = readYamlDocuments(join(deploy, 'k8s', 'kustomization.yaml')) as [{ resources: string[] }];
    expect([...kustomization.resources].sort()).toEqual(files.filter((name) => name !== 'kustomization.yaml').sort());
  });

  it('have one aggregator StatefulSet with a volume claim and one Job per party', () => {
    expect(workloads.filter((object) => object.kind === 'StatefulSet').map((object) => object.metadata.name)).toEqual(['rlsa-aggregator']);
    expect(workloads.filter((object) => object.kind === 'Job').map((object) => object.metadata.name).sort()).toEqual([
      'rlsa-trainer-node-1', 'rlsa-trainer-node-2', 'rlsa-trainer-reference',
    ]);
    const statefulSet = objects.find((object) => object.kind === 'StatefulSet') as unknown as { spec: { replicas: number; volumeClaimTemplates: { metadata: { name: string } }[] } };
    expect(statefulSet.spec.replicas).toBe(1);
    expect(statefulSet.spec.volumeClaimTemplates.map((claim) => claim.metadata.name)).toEqual(['data']);
  });

  it('let trainer pods reach only the aggregator\'s gRPC port (and DNS), and nothing reach them', () => {
    const policy = objects.find((object) => object.kind === 'NetworkPolicy' && object.metadata.name === 'rlsa-trainer') as unknown as {
      spec: { policyTypes: string[]; ingress: unknown[]; egress: { to: { podSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }[] };
    };
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([]);
    const toAggregator = policy.spec.egress.find((rule) => rule.to.some((peer) => peer.podSelector?.matchLabels['app.kubernetes.io/name'] === 'rlsa-aggregator'));
    expect(toAggregator?.ports.map((port) => port.port)).toEqual([50051]);
    expect(policy.spec.egress.filter((rule) => rule !== toAggregator).flatMap((rule) => rule.ports.map((port) => port.port))).toEqual([53, 53]);
  });

  it('run every container as non-root, read-only, without capabilities, with a memory limit, mounting only volumes that exist', () => {
    const names = new Set(objects.map((object) => `${object.kind}/${object.metadata.name}`));
    for (const workload of workloads) {
      const pod = workload.spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
      const volumes = new Set([...(pod.volumes ?? []).map((volume) => volume.name), ...(workload.kind === 'StatefulSet' ? ['data'] : [])]);
      for (const volume of pod.volumes ?? []) {
        if (volume.secret !== undefined) expect(names.has(`Secret/${volume.secret.secretName}`), volume.secret.secretName).toBe(true);
        if (volume.configMap !== undefined) expect(names.has(`ConfigMap/${volume.configMap.name}`), volume.configMap.name).toBe(true);
      }
      for (const container of pod.containers) {
        expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        expect(container.resources?.limits?.memory).toBeDefined();
        for (const mount of container.volumeMounts ?? []) expect(volumes.has(mount.name), `${workload.metadata.name}: ${mount.name}`).toBe(true);
        expect(container.volumeMounts?.some((mount) => mount.mountPath === '/tmp')).toBe(true); // tsx's cache on a read-only root
      }
    }
  });
});

describe('the systemd unit', () => {
  const unit = readFileSync(join(deploy, 'systemd', 'rlsa-aggregator.service'), 'utf8');
  const directives = new Map<string, string[]>();
  for (const line of unit.replace(/\\\n\s*/g, ' ').split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match !== null) directives.set(match[1] ?? '', [...(directives.get(match[1] ?? '') ?? []), match[2] ?? '']);
  }
  const one = (key: string): string | undefined => directives.get(key)?.[0];

  it('runs unprivileged with its state directory, its settings file and its secrets as credentials', () => {
    expect(one('DynamicUser')).toBe('yes');
    expect(one('StateDirectory')).toBe('rlsa');
    expect(one('EnvironmentFile')).toBe('/etc/rlsa/aggregator.env');
    expect(directives.get('LoadCredential')?.map((entry) => entry.split(':')[0])).toEqual(['tls.crt', 'tls.key', 'ca.crt', 'tokens.yaml']);
    expect(one('ExecStart')).toMatch(/--data-dir \$\{STATE_DIRECTORY\}/);
    expect(one('KillSignal')).toBe('SIGTERM');
  });

  it('is hardened', () => {
    for (const [key, value] of Object.entries({
      NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes', ProtectKernelModules: 'yes', ProtectControlGroups: 'yes', RestrictNamespaces: 'yes',
      RestrictSUIDSGID: 'yes', LockPersonality: 'yes', CapabilityBoundingSet: '', SystemCallFilter: '@system-service',
      RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX', UMask: '0077',
    })) {
      expect([key, one(key)]).toEqual([key, value]);
    }
    // V8's JIT needs writable and executable pages: this one would stop node at start.
    expect(directives.has('MemoryDenyWriteExecute')).toBe(false);
  });
});
