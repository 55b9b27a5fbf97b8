import type { Metadata, OutputInfo } from 'sharp';
import { SourceError } from '../errors.ts';
import type { ResizeRule } from './resize-rule.ts';

/**
 * sharp (libvips), loaded on first use: a party that brings only embeddings never loads the
 * image library's native code.
 */
type Sharp = (typeof import('sharp'))['default'];
let sharpLoaded: Promise<Sharp> | undefined;
function loadSharp(): Promise<Sharp> {
  sharpLoaded ??= import('sharp').then((m) => m.default);
  return sharpLoaded;
}

/** The image formats a source reads, by content (not by file extension). */
export const IMAGE_FORMATS = ['png', 'jpeg'] as const;

/** The file extensions an image folder looks at (case-insensitive); other files are ignored, as torchvision's ImageFolder does. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** Channels of a decoded image: 1 (grey) or 3 (RGB). */
export const CHANNEL_COUNTS = [1, 3] as const;
export type ChannelCount = (typeof CHANNEL_COUNTS)[number];

/** The size of an image as its header states it. */
export interface ImageHeader {
  readonly width: number;
  readonly height: number;
}

/**
 * The width and height an image file's header states (no pixel is decoded). `bad_format`,
 * naming `file`, for bytes that are not a PNG or JPEG image.
 */
export async function readImageHeader(bytes: Uint8Array, file: string): Promise<ImageHeader> {
  const sharp = await loadSharp();
  let metadata: Metadata;
  try {
    metadata = await sharp(bytes).metadata();
  } catch (error) {
    throw new SourceError('bad_format', `not a readable image (${errorText(error)})`, { file, cause: error });
  }
  if (!(IMAGE_FORMATS as readonly string[]).includes(metadata.format) || metadata.width < 1 || metadata.height < 1) {
    throw new SourceError('bad_format', `a ${metadata.format} image; PNG and JPEG are read`, { file });
  }
  return { width: metadata.width, height: metadata.height };
}

/**
 * Decodes an image file to H×W×C bytes (row-major, channels last) with sharp (libvips):
 * alpha dropped; converted to grey (`channels` 1, libvips's `b-w`) or sRGB (3); resized by
 * `resize` when given, else it must already be `size` (`bad_format` otherwise); no EXIF
 * rotation (as PIL and torchvision). A truncated or corrupt file is `bad_format` naming `file`.
 */
export async function decodeImage(
  bytes: Uint8Array,
  file: string,
  target: { readonly height: number; readonly width: number; readonly channels: ChannelCount },
  resize: ResizeRule | undefined,
): Promise<Uint8Array> {
  const sharp = await loadSharp();
  let image = sharp(bytes, { failOn: 'warning' }).removeAlpha().toColourspace(target.channels === 1 ? 'b-w' : 'srgb');
  if (resize !== undefined) {
    image = image.resize({ width: resize.width, height: resize.height, fit: resize.fit, kernel: resize.kernel, position: 'centre', background: { r: 0, g: 0, b: 0 } });
  }
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await image.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new SourceError('bad_format', `cannot decode the image (${errorText(error)}): truncated or corrupt?`, { file, cause: error });
  }
  const { info, data } = decoded;
  if (info.width !== target.width || info.height !== target.height || info.channels !== target.channels) {
    throw new SourceError(
      'bad_format',
      `decodes to ${info.height}×${info.width}×${info.channels}, the source's images are ${target.height}×${target.width}×${target.channels}` +
        (resize === undefined ? ': give a resize rule (--resize HxW) for images of mixed sizes' : ''),
      { file },
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}
