/**
 * Prints what a test's result depends on besides the repository's files, one fact per line; Nx
 * hashes the output into every test target's cache key (the `testEnvironment` input in nx.json).
 *
 * Some specs skip or change what they check on the machine: the native addon built or not (and
 * which SIMD kernels the CPU selects), root or not (network namespaces, file ownership), the data
 * sets under /usr/share/datasets, system tools (openssl, ip), `CI` (addon specs fail instead of
 * skipping) and the `RLSA_*` variables the commands read. A cached result must not be reused
 * when any of these differ.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, platform, arch } from 'node:os';
import { delimiter, join } from 'node:path';

/** Files whose presence a spec checks (data sets read when installed). */
const PROBED_FILES = [
  '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz',
  '/usr/share/datasets/cifar-100-binary/train.bin',
  '../shared/datasets/cifar-100-binary/train.bin', // the workspace copy the loader spec falls back to
  '/usr/share/datasets/cifar-10-batches-bin/data_batch_1.bin',
] as const;

/** Programs specs run when they are on the PATH. */
const PROBED_TOOLS = ['openssl', 'ip', 'python3', 'chromium'] as const;

const ADDON_DIR = 'libs/linalg-native/build';

/** CPU features the native kernels choose between at run time. */
const SIMD_FLAGS = ['avx512f', 'avx2', 'fma'] as const;

function simdFlags(): string {
  if (!existsSync('/proc/cpuinfo')) return 'unknown';
  const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim().split(/\s+/) ?? []);
  return SIMD_FLAGS.filter((flag) => flags.has(flag)).join(',');
}

function onPath(tool: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, tool)));
}

/** The addon's build outcome and a digest of the binary itself (rebuilt by `npm ci`). */
function addonFacts(): string[] {
  const statusFile = join(ADDON_DIR, 'addon-status.json');
  if (!existsSync(statusFile)) return ['addon: no build status'];
  const status = JSON.parse(readFileSync(statusFile, 'utf8')) as { ok?: unknown; reason?: unknown };
  const releaseDir = join(ADDON_DIR, 'Release');
  const binaries = existsSync(releaseDir) ? readdirSync(releaseDir).filter((name) => name.endsWith('.node')).sort() : [];
  const digest = createHash('sha256');
  for (const name of binaries) digest.update(readFileSync(join(releaseDir, name)));
  return [`addon: ok=${String(status.ok)} reason=${String(status.reason)}`, `addon binaries: ${binaries.join(',')} ${digest.digest('hex')}`];
}

const facts = [
  `node: ${process.version} ${platform()} ${arch()}`,
  `cpu: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length} ${simdFlags()}`,
  `root: ${process.getuid?.() === 0}`,
  ...addonFacts(),
  ...PROBED_FILES.map((file) => `file ${file}: ${existsSync(file)}`),
  ...PROBED_TOOLS.map((tool) => `tool ${tool}: ${onPath(tool)}`),
  ...Object.keys(process.env)
    .filter((name) => name === 'CI' || name.startsWith('RLSA_'))
    .sort()
    .map((name) => `env ${name}=${process.env[name] ?? ''}`),
];
process.stdout.write(`${facts.join('\n')}\n`);
