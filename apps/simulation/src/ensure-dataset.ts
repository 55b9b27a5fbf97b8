import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FASHION_MNIST_DEFAULT_DIR } from '@rlsa/data';
import { SimulationError } from './simulation-error.ts';

/** The Debian package that installs Fashion-MNIST into FASHION_MNIST_DEFAULT_DIR. */
export const FASHION_MNIST_PACKAGE = 'dataset-fashion-mnist';

function hasFashionMnist(dir: string): boolean {
  return ['train-images-idx3-ubyte', 't10k-images-idx3-ubyte'].every((base) => existsSync(join(dir, base)) || existsSync(join(dir, `${base}.gz`)));
}

function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure Fashion-MNIST is where the run will read it. Only the default Debian location is
 * installed automatically: when it is missing and this process is root with apt-get, runs
 * `apt-get install -y dataset-fashion-mnist` (and `apt-get update` then the install again if the
 * first try fails). Otherwise throws a user-facing error with the exact command to run.
 * A `--data-dir` given by the user is never installed into: a missing one is the user's to fix.
 */
export function ensureFashionMnist(dir: string | undefined, log: (message: string) => void): void {
  const target = dir ?? FASHION_MNIST_DEFAULT_DIR;
  if (hasFashionMnist(target)) return;
  if (target !== FASHION_MNIST_DEFAULT_DIR) {
    throw new SimulationError('dataset_missing', `Fashion-MNIST IDX files not found in ${target} (expected train-images-idx3-ubyte[.gz] and the others)`);
  }
  const instruction = `Fashion-MNIST is not installed in ${target}: run \`sudo apt-get install -y ${FASHION_MNIST_PACKAGE}\` (Debian), or pass --data-dir DIR with its IDX files`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !commandExists('apt-get')) throw new SimulationError('dataset_missing', instruction);
  const install = (): boolean => {
    log(`installing ${FASHION_MNIST_PACKAGE} with apt-get`);
    return spawnSync('apt-get', ['install', '-y', FASHION_MNIST_PACKAGE], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  if (!install()) {
    log('apt-get install failed; running apt-get update and trying again');
    spawnSync('apt-get', ['update'], { stdio: ['ignore', 'inherit', 'inherit'] });
    install();
  }
  if (!hasFashionMnist(target)) throw new SimulationError('dataset_missing', `${instruction} (the automatic install failed)`);
}
