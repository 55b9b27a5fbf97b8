import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertSafeName } from './names.ts';
import { OpsError } from './ops-error.ts';
import { runOpenssl } from './openssl.ts';
import { createPrivateFile } from './private-file.ts';

/** File names inside a PKI directory. The CA key never leaves this directory. */
export const CA_CERT_FILE = 'ca.crt';
export const CA_KEY_FILE = 'ca.key';

/** Ten years for the CA, a bit over two years for leaf certificates (the CA/Browser limit of old, a sane default). */
export const DEFAULT_CA_DAYS = 3650;
export const DEFAULT_LEAF_DAYS = 825;

/** What `initCa` and `issueCertificate` wrote. Paths only: callers may print them; keys are never returned. */
export interface IssuedFiles {
  readonly certPath: string;
  readonly keyPath: string;
  readonly caCertPath: string;
  /** Subject alternative names as openssl spells them (`DNS:x`, `IP Address:1.2.3.4`); empty for a CA or client. */
  readonly subjectAltNames: readonly string[];
  /** The certificate's end of validity, as openssl prints it (`notAfter=...`). */
  readonly notAfter: string;
}

export interface IssueOptions {
  /** Host names and IP addresses the server is reached by (server certificates only). */
  readonly hosts?: readonly string[];
  /** A client certificate (EKU clientAuth, CN = node id) instead of a server certificate. */
  readonly client?: boolean;
  readonly days?: number;
  /** Overwrite an existing certificate and key of the same name (re-issue). */
  readonly force?: boolean;
}

/**
 * Creates a certificate authority in `dir`: an EC P-256 key (`ca.key`, mode 0600) and a self-signed
 * certificate (`ca.crt`, CA:TRUE, pathlen 0, keyCertSign/cRLSign). Refuses to overwrite an existing CA,
 * because every certificate issued from it would stop verifying.
 */
export async function initCa(dir: string, options: { days?: number; commonName?: string } = {}): Promise<IssuedFiles> {
  const days = checkDays(options.days ?? DEFAULT_CA_DAYS);
  const commonName = options.commonName ?? 'RLSA CA';
  if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(commonName)) throw new OpsError('invalid_argument', `CA common name "${commonName}" is not valid`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, CA_KEY_FILE);
  const certPath = join(dir, CA_CERT_FILE);
  if (existsSync(keyPath) || existsSync(certPath)) {
    throw new OpsError('already_exists', `${dir} already holds a CA (${CA_CERT_FILE}/${CA_KEY_FILE}); refusing to replace it`);
  }
  const config = [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    'x509_extensions = ca_ext',
    '[dn]',
    `CN = ${commonName}`,
    '[ca_ext]',
    'basicConstraints = critical, CA:TRUE, pathlen:0',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    '',
  ].join('\n');
  await withTemporaryDir(async (scratch) => {
    const configPath = join(scratch, 'ca.cnf');
    writeFileSync(configPath, config);
    await generateKey(keyPath);
    await runOpenssl(['req', '-new', '-x509', '-config', configPath, '-key', keyPath, '-sha256', '-days', String(days), '-set_serial', randomSerial(), '-out', certPath]);
  });
  chmodSync(certPath, 0o644);
  return { certPath, keyPath, caCertPath: certPath, subjectAltNames: [], notAfter: await readNotAfter(certPath) };
}

/**
 * Issues a leaf certificate signed by the CA in `dir`: `<name>.key` (EC P-256, mode 0600) and `<name>.crt`.
 * A server certificate carries `hosts` as subject alternative names (`IP:` for addresses, `DNS:` otherwise)
 * and EKU serverAuth; a client certificate carries CN = `name` (the node id) and EKU clientAuth.
 * Validity is `days`, cut to the CA's own remaining validity.
 */
export async function issueCertificate(dir: string, name: string, options: IssueOptions = {}): Promise<IssuedFiles> {
  assertSafeName(name, 'certificate name');
  if (name === 'ca') throw new OpsError('invalid_argument', 'the name "ca" is reserved for the certificate authority');
  const days = checkDays(options.days ?? DEFAULT_LEAF_DAYS);
  const caCertPath = join(dir, CA_CERT_FILE);
  const caKeyPath = join(dir, CA_KEY_FILE);
  if (!existsSync(caCertPath) || !existsSync(caKeyPath)) {
    throw new OpsError('not_found', `no CA in ${dir}: run \`rlsa pki init --dir ${dir}\` first`);
  }
  // A certificate must not outlive its CA: clamp to the CA's remaining whole days.
  const caValidTo = Date.parse(new X509Certificate(readFileSync(caCertPath)).validTo);
  const caDaysLeft = Math.floor((caValidTo - Date.now()) / 86_400_000);
  if (caDaysLeft < 1) throw new OpsError('invalid_argument', `the CA in ${dir} expires in less than a day; make a new one`);
  const leafDays = Math.min(days, caDaysLeft);
  const hosts = options.hosts ?? [];
  const client = options.client === true;
  if (client && hosts.length > 0) throw new OpsError('invalid_argument', '--host applies to server certificates, not to --client ones');
  if (!client && hosts.length === 0) throw new OpsError('invalid_argument', 'a server certificate needs at least one --host (a DNS name or an IP address)');
  const altNames = hosts.map(subjectAltName);

  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.crt`);
  if (existsSync(keyPath) || existsSync(certPath)) {
    if (options.force !== true) throw new OpsError('already_exists', `${certPath} or ${keyPath} exists; pass --force to re-issue`);
    rmSync(keyPath, { force: true });
    rmSync(certPath, { force: true });
  }
  const extensions = [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyAgreement',
    `extendedKeyUsage = ${client ? 'clientAuth' : 'serverAuth'}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid, issuer',
    ...(altNames.length > 0 ? [`subjectAltName = ${altNames.join(', ')}`] : []),
  ];
  const config = ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${name}`, '[leaf_ext]', ...extensions, ''].join('\n');
  await withTemporaryDir(async (scratch) => {
    const configPath = join(scratch, 'leaf.cnf');
    const csrPath = join(scratch, 'leaf.csr');
    writeFileSync(configPath, config);
    await generateKey(keyPath);
    await runOpenssl(['req', '-new', '-config', configPath, '-key', keyPath, '-sha256', '-out', csrPath]);
    await runOpenssl([
      'x509', '-req', '-in', csrPath, '-CA', caCertPath, '-CAkey', caKeyPath, '-set_serial', randomSerial(),
      '-days', String(leafDays), '-sha256', '-extfile', configPath, '-extensions', 'leaf_ext', '-out', certPath,
    ]);
  });
  chmodSync(certPath, 0o644);
  return { certPath, keyPath, caCertPath, subjectAltNames: await readSubjectAltNames(certPath), notAfter: await readNotAfter(certPath) };
}

/** `DNS:name` or `IP:address` for one --host value; rejects what would not be a valid SAN or could inject config. */
export function subjectAltName(host: string): string {
  if (isIP(host) !== 0) return `IP:${host}`;
  // A DNS label list, optionally with a leading wildcard label.
  if (/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host) && host.length <= 253) {
    return `DNS:${host}`;
  }
  throw new OpsError('invalid_argument', `--host "${host}" is neither an IP address nor a DNS name`);
}

/** The subject alternative names of a certificate, as openssl prints them (`DNS:a`, `IP Address:10.0.0.1`). */
export async function readSubjectAltNames(certPath: string): Promise<string[]> {
  const text = await runOpenssl(['x509', '-in', certPath, '-noout', '-ext', 'subjectAltName']);
  const line = text.split('\n').slice(1).join(' ').trim();
  return line === '' ? [] : line.split(/,\s*/);
}

async function readNotAfter(certPath: string): Promise<string> {
  return (await runOpenssl(['x509', '-in', certPath, '-noout', '-enddate'])).trim().replace(/^notAfter=/, '');
}

/** EC P-256: accepted by every TLS stack that grpc-js (Node's OpenSSL) and grpc-go/grpcurl speak. */
async function generateKey(keyPath: string): Promise<void> {
  createPrivateFile(keyPath);
  try {
    await runOpenssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
  } catch (error: unknown) {
    rmSync(keyPath, { force: true });
    throw error;
  }
}

/** A random positive 127-bit serial (RFC 5280 asks for unpredictable serials, at most 20 octets). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

function checkDays(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > 36500) throw new OpsError('invalid_argument', `--days must be an integer from 1 to 36500, got ${days}`);
  return days;
}

async function withTemporaryDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'rlsa-pki-'));
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
