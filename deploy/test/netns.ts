import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * Linux network namespaces for a test: one per host, each with its own address on a private
 * 10.231.0.0/24 behind a bridge in a hub namespace of its own, so that nothing of the machine's
 * own network (root namespace) is touched. Only namespaces made here are ever deleted.
 */
export interface Host {
  /** Namespace name (`ip netns exec NAME ...`). */
  readonly netns: string;
  /** Its address on the test network. */
  readonly address: string;
}

export interface TestNetwork {
  readonly hosts: ReadonlyMap<string, Host>;
  /** Every namespace made (the hub and the hosts). */
  readonly namespaces: readonly string[];
  host(name: string): Host;
  /** Deletes every namespace made here (their veth pairs and the bridge go with them). Idempotent. */
  destroy(): void;
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** Why namespaces cannot be made here, or undefined when they can (probed by making and deleting one). */
export function netnsUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add); run the tests as root';
  const which = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (which.error !== undefined) return 'the ip command (iproute2) is not installed: apt-get install -y iproute2';
  const probe = `rlsa-probe-${process.pid}`;
  const added = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (added.status !== 0) return `ip netns add failed: ${added.stderr.trim() || `exit ${added.status}`}`;
  const veth = spawnSync('ip', ['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1'], { encoding: 'utf8' });
  spawnSync('ip', ['netns', 'del', probe]);
  if (veth.status !== 0) return `cannot create veth pairs in a namespace: ${veth.stderr.trim()}`;
  return undefined;
}

/** Makes a hub namespace with a bridge and one namespace per host name, host i at 10.231.0.(i+1). */
export function createTestNetwork(names: readonly string[]): TestNetwork {
  const id = randomBytes(3).toString('hex');
  const hub = `rlsa-${id}-hub`;
  const made: string[] = [];
  const hosts = new Map<string, Host>();
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    for (const netns of [...made].reverse()) spawnSync('ip', ['netns', 'del', netns]);
    process.off('exit', destroy);
  };
  process.on('exit', destroy); // a crashed test run still leaves nothing behind
  try {
    ip('netns', 'add', hub);
    made.push(hub);
    ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', hub, 'link', 'set', 'br0', 'up');
    names.forEach((name, index) => {
      const netns = `rlsa-${id}-${name}`;
      const address = `10.231.0.${index + 1}`;
      const port = `p${index}`;
      ip('netns', 'add', netns);
      made.push(netns);
      ip('-n', netns, 'link', 'set', 'lo', 'up');
      ip('-n', netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', hub);
      ip('-n', hub, 'link', 'set', port, 'master', 'br0');
      ip('-n', hub, 'link', 'set', port, 'up');
      ip('-n', netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('-n', netns, 'link', 'set', 'eth0', 'up');
      hosts.set(name, { netns, address });
    });
  } catch (error: unknown) {
    destroy();
    throw error;
  }
  return {
    hosts,
    namespaces: made,
    host(name) {
      const host = hosts.get(name);
      if (host === undefined) throw new Error(`no host ${name} in the test network`);
      return host;
    },
    destroy,
  };
}

/** Namespaces whose name starts with `prefix` (to check that a test left none behind). */
export function listNetns(prefix: string): string[] {
  const out = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(prefix));
}
