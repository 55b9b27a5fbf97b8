import { readdirSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { SourceError } from '../errors.ts';
import { IMAGE_EXTENSIONS } from '../image/decode-image.ts';
import { PART_TEST, PART_TRAIN } from '../split-parts.ts';


/** The image files of an image folder, in the order they are read, with their class and part. */
export interface ImageFolderListing {
  /** Paths relative to the folder, with `/` separators (the names messages and `--ids filename` use). */
  readonly files: readonly string[];
  /** Class index of each file: its class folder's rank among the sorted training class names. */
  readonly labels: Int32Array;
  /** `PART_TRAIN` or `PART_TEST` for each file. */
  readonly parts: Uint8Array;
  readonly classNames: readonly string[];
  /** Whether the folder has its own test part (`DIR/test/<class>/...`). */
  readonly hasTest: boolean;
}

/**
 * Lists an image folder, ImageFolder layout: `DIR/<class>/...` (one subfolder per class, class
 * names sorted → label 0, 1, ...), or `DIR/train/<class>/...` with an optional `DIR/test/<class>/...`
 * when DIR has a `train` subfolder. Inside a class folder every file with a PNG or JPEG extension
 * counts, at any depth, in sorted path order; other files are ignored. Refused (`bad_format`,
 * naming the folder): a class folder with no image, an image outside any class folder, a test
 * class with no training folder; `not_found` for a missing folder.
 */
export function listImageFolder(dir: string): ImageFolderListing {
  const top = entries(dir);
  const hasSplits = top.some((e) => e.isDirectory() && e.name === 'train');
  const trainRoot = hasSplits ? 'train' : '';
  const hasTest = hasSplits && top.some((e) => e.isDirectory() && e.name === 'test');
  const classNames = classFolders(dir, trainRoot);
  if (classNames.length === 0) throw new SourceError('bad_format', 'no class folder (expected one subfolder of images per class)', { file: path.join(dir, trainRoot) });
  const files: string[] = [];
  const labels: number[] = [];
  const parts: number[] = [];
  const add = (root: string, part: number, names: readonly string[]): void => {
    for (const name of names) {
      const label = classNames.indexOf(name);
      if (label < 0) throw new SourceError('bad_format', `the test class "${name}" has no training folder`, { file: path.join(dir, root, name) });
      const found = imagesUnder(dir, joinRelative(root, name));
      if (found.length === 0) throw new SourceError('bad_format', 'a class folder with no PNG or JPEG image', { file: path.join(dir, root, name) });
      for (const file of found) {
        files.push(file);
        labels.push(label);
        parts.push(part);
      }
    }
  };
  add(trainRoot, PART_TRAIN, classNames);
  if (hasTest) add('test', PART_TEST, classFolders(dir, 'test'));
  return { files, labels: Int32Array.from(labels), parts: Uint8Array.from(parts), classNames, hasTest };
}

/** The sorted names of the class folders under `dir/root`; an image file there (outside any class) is refused. */
function classFolders(dir: string, root: string): string[] {
  const list = entries(path.join(dir, root));
  const stray = list.find((e) => !e.isDirectory() && isImageName(e.name));
  if (stray !== undefined) {
    throw new SourceError('bad_format', 'an image outside any class folder (expected one subfolder of images per class)', { file: path.join(dir, root, stray.name) });
  }
  return list
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** Image files under `dir/relative`, at any depth, as sorted `/`-separated paths relative to `dir`. */
function imagesUnder(dir: string, relative: string): string[] {
  const out: string[] = [];
  for (const entry of entries(path.join(dir, relative))) {
    if (entry.name.startsWith('.')) continue;
    const child = joinRelative(relative, entry.name);
    const isDirectory = entry.isDirectory() || (entry.isSymbolicLink() && statSync(path.join(dir, child)).isDirectory());
    if (isDirectory) out.push(...imagesUnder(dir, child));
    else if (isImageName(entry.name)) out.push(child);
  }
  return out.sort();
}

function entries(folder: string): Dirent[] {
  try {
    return readdirSync(folder, { withFileTypes: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') throw new SourceError('not_found', 'no such folder', { file: folder, cause: error });
    if (code === 'ENOTDIR') throw new SourceError('bad_format', 'not a folder', { file: folder, cause: error });
    throw new SourceError('bad_format', `cannot list the folder (${String(code)})`, { file: folder, cause: error });
  }
}

function isImageName(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

function joinRelative(a: string, b: string): string {
  return a === '' ? b : `${a}/${b}`;
}
