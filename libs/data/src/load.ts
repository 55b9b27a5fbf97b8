import { CIFAR10_DEFAULT_DIR, defaultCifar100Dir, loadCifar10, loadCifar100 } from './cifar.ts';
import { DATASET_NAMES, type DatasetName, type ImageDataset } from './dataset.ts';
import { DataError } from './errors.ts';
import { FASHION_MNIST_DEFAULT_DIR, loadFashionMnist } from './fashion-mnist.ts';
import { syntheticDataset, type SyntheticOptions } from './synthetic.ts';

export interface LoadOptions {
  /** Directory of the data set's files; each data set has a default. Ignored for synthetic data. */
  readonly dataDir?: string;
  /** Options of the synthetic generator. */
  readonly synthetic?: SyntheticOptions;
}

/** Whether a string names a data set. */
export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/** The directory a data set is read from when no --data-dir is given. */
export function defaultDataDir(name: DatasetName): string | undefined {
  switch (name) {
    case 'fashion-mnist':
      return FASHION_MNIST_DEFAULT_DIR;
    case 'cifar100':
      return defaultCifar100Dir();
    case 'cifar10':
      return CIFAR10_DEFAULT_DIR;
    case 'synthetic':
      return undefined;
  }
}

/** Loads a data set by name (see each loader for the file layout it expects). */
export function loadDataset(name: string, options: LoadOptions = {}): ImageDataset {
  if (!isDatasetName(name)) {
    throw new DataError('invalid_argument', `unknown data set "${name}" (expected one of ${DATASET_NAMES.join(', ')})`);
  }
  switch (name) {
    case 'fashion-mnist':
      return loadFashionMnist(options.dataDir ?? FASHION_MNIST_DEFAULT_DIR);
    case 'cifar100':
      return loadCifar100(options.dataDir ?? defaultCifar100Dir());
    case 'cifar10':
      return loadCifar10(options.dataDir ?? CIFAR10_DEFAULT_DIR);
    case 'synthetic':
      return syntheticDataset(options.synthetic);
  }
}
