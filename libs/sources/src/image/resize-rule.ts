import { SourceError } from '../errors.ts';

/**
 * How an image is brought to H×W (sharp's `fit`):
 * - `cover`: scaled, keeping its aspect ratio, until it covers H×W, then the centre cut out
 *   (torchvision's `Resize(min(H, W))` + `CenterCrop` for a square target);
 * - `contain`: scaled until it fits inside H×W, the rest padded with black;
 * - `fill`: stretched to H×W, aspect ratio ignored.
 */
export const FIT_MODES = ['cover', 'contain', 'fill'] as const;
export type FitMode = (typeof FIT_MODES)[number];

/** The interpolation kernels of sharp's resize; `lanczos3` is sharp's default (PIL's `Image.LANCZOS`). */
export const RESIZE_KERNELS = ['nearest', 'linear', 'cubic', 'lanczos3'] as const;
export type ResizeKernel = (typeof RESIZE_KERNELS)[number];

/** Where every image of a source is resized to, and how. */
export interface ResizeRule {
  readonly height: number;
  readonly width: number;
  readonly fit: FitMode;
  readonly kernel: ResizeKernel;
}

/** The largest side a resize rule may ask for (a typo like 22400 would otherwise allocate gigabytes a batch). */
export const MAX_RESIZE_SIDE = 4096;

/**
 * Parses `--resize HxW` (`224x224`, `32×32`) with a fit mode (default `cover`) and a kernel
 * (default `lanczos3`). `invalid_argument` on anything else.
 */
export function parseResizeRule(text: string, fit: string = 'cover', kernel: string = 'lanczos3'): ResizeRule {
  const match = /^(\d+)[x×](\d+)$/.exec(text.trim());
  const height = match === null ? NaN : Number(match[1]);
  const width = match === null ? NaN : Number(match[2]);
  if (!(height >= 1 && height <= MAX_RESIZE_SIDE && width >= 1 && width <= MAX_RESIZE_SIDE)) {
    throw new SourceError('invalid_argument', `--resize must be HxW with sides from 1 to ${MAX_RESIZE_SIDE} (e.g. 224x224), got "${text}"`);
  }
  if (!(FIT_MODES as readonly string[]).includes(fit)) {
    throw new SourceError('invalid_argument', `the resize fit must be one of ${FIT_MODES.join(', ')}, got "${fit}"`);
  }
  if (!(RESIZE_KERNELS as readonly string[]).includes(kernel)) {
    throw new SourceError('invalid_argument', `the resize kernel must be one of ${RESIZE_KERNELS.join(', ')}, got "${kernel}"`);
  }
  return { height, width, fit: fit as FitMode, kernel: kernel as ResizeKernel };
}
