import * as tf from '@tensorflow/tfjs-core';

/** Geometry of one 2-D convolution (NHWC, no dilation), as the im2col / col2im layouts need it. */
export interface Conv2DGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/** The attributes every NHWC convolution kernel shares (forward and both gradients). */
export interface NhwcConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil' | undefined;
}

/** tfjs's info of an NHWC convolution without dilation of x [N, H, W, cin] by a filter [fh, fw, cin, cout]. */
export function nhwcConvInfo(xShape: readonly number[], filterShape: readonly number[], attrs: NhwcConvAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** The geometry of tfjs's convolution info (same padding rules as every backend). */
export function conv2DGeometry(info: tf.backend_util.Conv2DInfo): Conv2DGeometry {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * The geometry in the native kernels' order (`ConvGeometry` of @rlsa/linalg-native):
 * [batch, inH, inW, inC, outH, outW, outC, fh, fw, strideH, strideW, padTop, padLeft].
 */
export function geometryArray(g: Conv2DGeometry): Int32Array {
  return Int32Array.of(
    g.batch,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.outHeight,
    g.outWidth,
    g.outChannels,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.padTop,
    g.padLeft,
  );
}
