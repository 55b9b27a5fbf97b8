/*
 * 2-D convolutions for training (NHWC, filters [fh, fw, cin, cout], no filter dilation), as
 * products whose im2col operand is never written whole: each tile of the product gathers the
 * image rows it needs (implicit im2col).
 */
#ifndef RL_CONV_H
#define RL_CONV_H

#include "gemm.h"

/** One convolution: x [batch, in_h, in_w, in_c] * filter [fh, fw, in_c, out_c] → y [batch, out_h, out_w, out_c]. */
typedef struct {
  long batch, in_h, in_w, in_c;
  long out_h, out_w, out_c;
  long fh, fw;
  long stride_h, stride_w;
  long pad_top, pad_left;
} rl_conv_geometry;

/** Returns 0 when the geometry is consistent (positive sizes, out_h/out_w reachable), else -1. */
int rl_conv_check(const rl_conv_geometry *g);

/** y = conv(x, filter) + bias (bias [out_c] or NULL). Returns 0, or -1 if memory ran out. */
int rl_conv2d_forward(const rl_conv_geometry *g, const float *x, const float *filter, const float *bias, float *y, int threads,
                      rl_level level);

/** dx [batch, in_h, in_w, in_c] = ∂/∂x of Σ y·dy for dy [batch, out_h, out_w, out_c]. Returns 0, or -1 if memory ran out. */
int rl_conv2d_backprop_input(const rl_conv_geometry *g, const float *dy, const float *filter, float *dx, int threads, rl_level level);

/**
 * dw [fh, fw, in_c, out_c] = Σ_{n,y,x} im2col(x)ᵀ·dy: float32 sums over blocks of RL_CONV_KC pixels,
 * the blocks summed in float64 within each of a fixed number of pixel ranges (RL_CONV_REDUCTION_TASKS),
 * the ranges summed in order: the result does not depend on the thread count. Returns 0, or -1 if
 * memory ran out.
 */
int rl_conv2d_backprop_filter(const rl_conv_geometry *g, const float *x, const float *dy, float *dw, int threads, rl_level level);

#define RL_CONV_KC 256
#define RL_CONV_REDUCTION_TASKS 8

#endif
