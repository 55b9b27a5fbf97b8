import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_CA_DAYS, DEFAULT_LEAF_DAYS, initCa, issueCertificate } from '@rlsa/ops';

/** `--days N`: a positive integer. */
function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1) throw new InvalidArgumentError('expected a positive whole number of days');
  return days;
}

/** `--host a,b --host c` → ['a', 'b', 'c']. */
function collectHosts(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((host) => host.trim()).filter((host) => host !== '')];
}

/**
 * `rlsa pki init|issue`: a private CA for a deployment, a server certificate for the aggregator (its
 * host names and addresses as SANs) and a client certificate per trainer node (CN = node id), made by
 * the openssl binary. Prints file paths only; keys are written with mode 0600 and never printed.
 */
export function registerPkiCommand(program: Command): void {
  const pki = program.command('pki').description('create the certificates of a deployment (mTLS between nodes and the aggregator)');

  pki
    .command('init')
    .description('create a certificate authority: <dir>/ca.crt (give to every party) and <dir>/ca.key (keep offline)')
    .requiredOption('--dir <dir>', 'directory of the PKI (created with mode 0700)')
    .option('--days <n>', 'validity of the CA certificate in days', parseDays, DEFAULT_CA_DAYS)
    .option('--common-name <cn>', 'subject CN of the CA', 'RLSA CA')
    .action(async (options: { dir: string; days: number; commonName: string }) => {
      const issued = await initCa(options.dir, { days: options.days, commonName: options.commonName });
      process.stdout.write(`CA certificate: ${issued.certPath} (valid until ${issued.notAfter})\nCA key:         ${issued.keyPath} (mode 0600; keep it offline)\n`);
    });

  pki
    .command('issue')
    .description('issue a server certificate (--host) for the aggregator or a client certificate (--client) for a node')
    .requiredOption('--dir <dir>', 'directory of the PKI made by `rlsa pki init`')
    .requiredOption('--name <name>', 'file name and CN: the aggregator\'s name, or the node id for --client')
    .option('--host <hosts>', 'server: DNS names and IP addresses the aggregator is reached by (comma-separated, repeatable)', collectHosts)
    .option('--client', 'a client certificate for a trainer node (CN = --name = its node id)', false)
    .option('--days <n>', 'validity in days', parseDays, DEFAULT_LEAF_DAYS)
    .option('--force', 'replace an existing certificate and key of this name', false)
    .action(async (options: { dir: string; name: string; host?: string[]; client: boolean; days: number; force: boolean }) => {
      const issued = await issueCertificate(options.dir, options.name, {
        hosts: options.host ?? [],
        client: options.client,
        days: options.days,
        force: options.force,
      });
      const kind = options.client ? 'client' : 'server';
      const lines = [
        `${kind} certificate: ${issued.certPath} (valid until ${issued.notAfter})`,
        `${kind} key:         ${issued.keyPath} (mode 0600)`,
        `CA certificate:     ${issued.caCertPath}`,
      ];
      if (issued.subjectAltNames.length > 0) lines.push(`names:              ${issued.subjectAltNames.join(', ')}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
