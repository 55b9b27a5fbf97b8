import { join } from 'node:path';
import type { ImageDataset, ImageSplit } from './dataset.ts';
import { DataError } from './errors.ts';
import { readIdx } from './idx.ts';
import { isDirectory, isFile } from './read-file.ts';

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** The file of `base` in `dir`: the uncompressed one if present (faster), else the `.gz`. */
function findIdxFile(dir: string, base: string): string {
  for (const name of [base, `${base}.gz`]) {
    const file = join(dir, name);
    if (isFile(file)) return file;
  }
  throw new DataError('not_found', `${join(dir, base)}[.gz]: no such file (Fashion-MNIST IDX files expected in ${dir})`, join(dir, base));
}

function readSplit(dir: string, prefix: 'train' | 't10k'): ImageSplit {
  const imageFile = findIdxFile(dir, `${prefix}-images-idx3-ubyte`);
  const labelFile = findIdxFile(dir, `${prefix}-labels-idx1-ubyte`);
  const images = readIdx(imageFile, 3);
  const labels = readIdx(labelFile, 1);
  const [count, h, w] = images.dims as [number, number, number];
  if (h !== 28 || w !== 28) {
    throw new DataError('bad_format', `${imageFile}: images are ${h}×${w}, Fashion-MNIST has 28×28`, imageFile);
  }
  if (labels.dims[0] !== count) {
    throw new DataError('bad_format', `${labelFile}: ${labels.dims[0]} labels for ${count} images in ${imageFile}`, labelFile);
  }
  for (let i = 0; i < count; i++) {
    if ((labels.data[i] as number) > 9) {
      throw new DataError('bad_format', `${labelFile}: label ${labels.data[i]} at index ${i} is out of range 0..9`, labelFile);
    }
  }
  return { images: images.data, labels: labels.data, count };
}

/**
 * Fashion-MNIST (Xiao et al., 2017) from its four IDX files, gzipped or not:
 * `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`.
 * 28×28×1 images, 10 classes. Any number of images is accepted (tests write small files); the
 * official files have 60,000 and 10,000.
 */
export function loadFashionMnist(dir: string = FASHION_MNIST_DEFAULT_DIR): ImageDataset {
  if (!isDirectory(dir)) throw new DataError('not_found', `${dir}: no such directory (Fashion-MNIST)`, dir);
  return {
    name: 'fashion-mnist',
    shape: [28, 28, 1],
    numClasses: 10,
    classNames: FASHION_MNIST_CLASS_NAMES,
    train: readSplit(dir, 'train'),
    test: readSplit(dir, 't10k'),
    fileLayout: 'hwc',
    source: dir,
  };
}
