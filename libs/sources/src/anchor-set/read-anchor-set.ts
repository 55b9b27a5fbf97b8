import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { SourceError } from '../errors.ts';
import { IMAGE_EXTENSIONS, readImageHeader } from '../image/decode-image.ts';
import { openSampleArray, readSampleRows } from '../npy/npy-array-file.ts';
import { NPY_FOLDER_FILES } from '../npy/npy-folder-source.ts';
import { readLabels } from '../npy/npy-vectors.ts';
import { NO_LABEL, sampleSize } from '../sample.ts';
import { anchorCount, type AnchorSet, type ArrayAnchorSet, type ImagesAnchorSet } from './anchor-set.ts';
import { ANCHOR_SET_MAGIC, decodeAnchorSet } from './anchor-set-codec.ts';

/** Beside an NPY anchor array, one name per line (optional). */
export const ANCHOR_NAMES_FILE = 'names.txt';

/**
 * Reads an anchor set from disk, by what `target` is:
 * - a file starting with `RLSAANCH`: an encoded set (a node's local copy, as fetched);
 * - an `.npy` file: an array set (N×H×W×C, N×H×W or N×F; uint8 or floats, read as float32);
 * - a folder holding `x.npy`: an array set with optional `y.npy` labels and `names.txt`;
 * - any other folder: an images set (`readAnchorImages`).
 */
export async function readAnchorSet(target: string): Promise<AnchorSet> {
  if (!existsSync(target)) throw new SourceError('not_found', 'no such file or folder', { file: target });
  if (statSync(target).isDirectory()) {
    return existsSync(path.join(target, NPY_FOLDER_FILES.x)) ? readAnchorArray(target) : readAnchorImages(target);
  }
  const bytes = readFileSync(target);
  if (bytes.subarray(0, 8).toString('latin1') === ANCHOR_SET_MAGIC) return decodeAnchorSet(bytes, target);
  if (target.toLowerCase().endsWith('.npy')) return arrayFromFile(target);
  throw new SourceError('bad_format', 'not an anchor set (an encoded set, an .npy file or a folder)', { file: target });
}

/**
 * An images anchor set from a folder: every PNG or JPEG under it, in sorted path order, named by
 * its relative path; labelled by class folder (sorted names → 0, 1, ...) when every image is in
 * a subfolder, unlabelled when all are at the top. Each file is checked to be a readable image.
 */
export async function readAnchorImages(dir: string): Promise<ImagesAnchorSet> {
  const names = listImages(dir, '').sort();
  if (names.length === 0) throw new SourceError('bad_format', 'no PNG or JPEG image in the anchor folder', { file: dir });
  const nested = names.filter((n) => n.includes('/')).length;
  if (nested !== 0 && nested !== names.length) {
    throw new SourceError('bad_format', 'anchor images must be all in class folders (labelled) or all at the top (unlabelled)', { file: dir });
  }
  const files = names.map((name) => readFileSync(path.join(dir, name)));
  for (let i = 0; i < files.length; i++) await readImageHeader(files[i]!, path.join(dir, names[i]!));
  if (nested === 0) return { kind: 'images', files, names };
  const classes = [...new Set(names.map((n) => n.slice(0, n.indexOf('/'))))].sort();
  const labels = Int32Array.from(names, (n) => classes.indexOf(n.slice(0, n.indexOf('/'))));
  return { kind: 'images', files, labels, names };
}

function listImages(dir: string, relative: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listImages(dir, child));
    else if (IMAGE_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) out.push(child);
  }
  return out;
}

function readAnchorArray(dir: string): ArrayAnchorSet {
  const xFile = path.join(dir, NPY_FOLDER_FILES.x);
  const set = arrayFromFile(xFile);
  const count = anchorCount(set);
  const yFile = path.join(dir, NPY_FOLDER_FILES.y);
  const namesFile = path.join(dir, ANCHOR_NAMES_FILE);
  const labels = existsSync(yFile) ? readLabels(yFile, count, xFile) : undefined;
  let names: string[] | undefined;
  if (existsSync(namesFile)) {
    names = readFileSync(namesFile, 'utf8').replace(/\n$/, '').split('\n');
    if (names.length !== count) throw new SourceError('bad_format', `${names.length} names but ${path.basename(xFile)} has ${count} rows`, { file: namesFile });
  }
  return { ...set, ...(labels === undefined || labels.every((l) => l === NO_LABEL) ? {} : { labels }), ...(names === undefined ? {} : { names }) };
}

function arrayFromFile(file: string): ArrayAnchorSet {
  const array = openSampleArray(file);
  try {
    if (array.reader.rows < 1) throw new SourceError('bad_format', 'an anchor array with no row', { file });
    const values = readSampleRows(array, 0, array.reader.rows);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new SourceError('bad_format', `anchor ${Math.floor(bad / sampleSize(array.shape))} holds ${values[bad]}: values must be finite`, { file });
    return { kind: 'array', shape: array.shape, values };
  } finally {
    array.reader.close();
  }
}
