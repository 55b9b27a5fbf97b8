import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { forEachConcurrent } from '../concurrency.ts';
import { contentId, filenameId, type IdScheme } from '../content-id.ts';
import { SourceError } from '../errors.ts';
import { DEFAULT_HOLDOUT_FRACTION, DEFAULT_HOLDOUT_SEED } from '../holdout.ts';
import { decodeImage, readImageHeader, type ChannelCount } from '../image/decode-image.ts';
import type { ResizeRule } from '../image/resize-rule.ts';
import { rowPart, type RowReader } from '../row-part.ts';
import type { DataSource, SampleShape } from '../sample.ts';
import { pick, splitParts } from '../split-parts.ts';
import { uniqueSamples } from '../unique-samples.ts';
import { listImageFolder, type ImageFolderListing } from './image-folder-layout.ts';

export interface ImageFolderOptions {
  /** Where every image is resized to; without one, all images must have the first image's size. */
  readonly resize?: ResizeRule;
  /** Channels of the decoded images (default 3: RGB; grey images are expanded). */
  readonly channels?: ChannelCount;
  /** Sample ids from content (default) or from file names (`filenameId`); `file` is refused (an image folder has no ids file). */
  readonly ids?: IdScheme;
  /** Share of the samples held out for testing when the folder has no `test` part (default 0.2). */
  readonly holdoutFraction?: number;
  /** Seed of the held-out split (default 42). */
  readonly seed?: number;
  /** Files read at once while scanning and decoding (default 8). */
  readonly concurrency?: number;
}

/** What the scan learns of every file: ids, content ids and header sizes, indexed like the listing. */
interface ScannedFolder {
  readonly ids: BigUint64Array;
  readonly contents: BigUint64Array;
  readonly heights: Uint32Array;
  readonly widths: Uint32Array;
}

/**
 * Opens an image folder (see `listImageFolder` for the layout) as a source. Every file is read
 * once up front, a few at a time, to compute its id and content id (SHA-256 of its bytes, see
 * content-id.ts) and read its header; pixels are decoded only when batches are read, so memory
 * holds the file list and about 30 bytes a sample, never the images. Refused before any batch:
 * unreadable images, mixed sizes without `resize` (naming both files), two contents with one
 * user-given id. A truncated image whose header is intact is refused when its batch is read.
 */
export async function openImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<DataSource> {
  if (options.ids === 'file') throw new SourceError('invalid_argument', 'an image folder has no ids file: --ids must be content or filename', { file: dir });
  const listing = listImageFolder(dir);
  const concurrency = options.concurrency ?? 8;
  const scanned = await scanFiles(dir, listing, options.ids ?? 'content', concurrency);
  const shape = imageShape(dir, listing, scanned, options);
  const { keep, duplicates } = uniqueSamples({ ids: scanned.ids, contents: scanned.contents, name: (i) => listing.files[i]! }, dir);
  const split = splitParts(keep, listing.hasTest ? listing.parts : undefined, options.holdoutFraction ?? DEFAULT_HOLDOUT_FRACTION, options.seed ?? DEFAULT_HOLDOUT_SEED);
  const reader = folderReader(dir, listing, scanned, shape, options.resize, concurrency);
  const part = (rows: Uint32Array) => rowPart(reader, rows, pick(scanned.ids, rows), pick(listing.labels, rows));
  const train = part(split.train);
  const test = part(split.test);
  const resizeText = options.resize === undefined ? '' : `, resized ${options.resize.fit} ${options.resize.kernel}`;
  return {
    description: `imagefolder:${dir} (${train.count} train, ${test.count} test${listing.hasTest ? '' : ' held out'}, ${listing.classNames.length} classes, ${shape.height}×${shape.width}×${shape.channels}${resizeText})`,
    shape,
    classNames: listing.classNames,
    train,
    test,
    testOrigin: listing.hasTest ? 'source' : 'holdout',
    duplicates,
    close: () => undefined,
  };
}

async function scanFiles(dir: string, listing: ImageFolderListing, scheme: Exclude<IdScheme, 'file'>, concurrency: number): Promise<ScannedFolder> {
  const n = listing.files.length;
  const scanned = { ids: new BigUint64Array(n), contents: new BigUint64Array(n), heights: new Uint32Array(n), widths: new Uint32Array(n) };
  await forEachConcurrent(n, concurrency, async (i) => {
    const relative = listing.files[i]!;
    const file = path.join(dir, relative);
    const bytes = await readImageFile(file);
    const header = await readImageHeader(bytes, file);
    scanned.contents[i] = contentId(bytes);
    scanned.ids[i] = scheme === 'content' ? scanned.contents[i]! : filenameId(relative);
    scanned.heights[i] = header.height;
    scanned.widths[i] = header.width;
  });
  return scanned;
}

/** The shape every decoded image has: the resize rule's, else the first image's (all must share it). */
function imageShape(dir: string, listing: ImageFolderListing, scanned: ScannedFolder, options: ImageFolderOptions): SampleShape & { kind: 'image'; channels: ChannelCount } {
  const channels = options.channels ?? 3;
  if (options.resize !== undefined) return { kind: 'image', height: options.resize.height, width: options.resize.width, channels };
  const height = scanned.heights[0]!;
  const width = scanned.widths[0]!;
  for (let i = 1; i < listing.files.length; i++) {
    if (scanned.heights[i] !== height || scanned.widths[i] !== width) {
      throw new SourceError(
        'bad_format',
        `${listing.files[0]} is ${height}×${width} but ${listing.files[i]} is ${scanned.heights[i]}×${scanned.widths[i]}: images of mixed sizes need a resize rule (--resize HxW)`,
        { file: dir },
      );
    }
  }
  return { kind: 'image', height, width, channels };
}

function folderReader(
  dir: string,
  listing: ImageFolderListing,
  scanned: ScannedFolder,
  shape: SampleShape & { kind: 'image'; channels: ChannelCount },
  resize: ResizeRule | undefined,
  concurrency: number,
): RowReader {
  const size = shape.height * shape.width * shape.channels;
  return {
    shape,
    read: async (rows) => {
      const out = new Uint8Array(rows.length * size);
      await forEachConcurrent(rows.length, concurrency, async (k) => {
        const file = path.join(dir, listing.files[rows[k]!]!);
        const bytes = await readImageFile(file);
        // The id was computed from the bytes read at scan time: the pixels must come from the same bytes.
        if (contentId(bytes) !== scanned.contents[rows[k]!]) throw new SourceError('bad_format', 'the file changed after the folder was scanned', { file });
        out.set(await decodeImage(bytes, file, shape, resize), k * size);
      });
      return out;
    },
  };
}

async function readImageFile(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new SourceError(code === 'ENOENT' ? 'not_found' : 'bad_format', `cannot read the file (${String(code)})`, { file, cause: error });
  }
}

