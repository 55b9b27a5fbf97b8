/*
 * The elementwise and pooling work of training, multithreaded over chunks (results do not depend
 * on the thread count: every element is computed by one thread, sums are split in fixed chunks).
 */
#ifndef RL_ELEMENTWISE_H
#define RL_ELEMENTWISE_H

#include <stddef.h>

#include "conv.h"
#include "gemm.h"

/**
 * SiLU: s = sigmoid(x) = 1 / (1 + e^−x), y = x·s, n elements. e^x is a degree-6 polynomial after
 * range reduction (Cephes' expf, within 2 ulp of e^x over the float range); inputs are clamped to
 * [−87.3, 88.3], where e^x is a normal float, so s is exact 0 or 1 only where float32 rounds it so.
 * `y` may be NULL (sigmoid only).
 */
void rl_silu(const float *x, float *y, float *s, size_t n, int threads, rl_level level);

/** SiLU gradient from the saved sigmoid: dx = dy · s · (1 + x · (1 − s)), n elements. */
void rl_silu_grad(const float *dy, const float *s, const float *x, float *dx, size_t n, int threads, rl_level level);

/**
 * Max pooling (NHWC; g->fh × g->fw windows, strides and padding of g; in_c = out_c channels):
 * y = the largest value of each window, ignoring NaN and padding (−∞ for a window of none), as
 * tfjs's cpu backend does.
 */
void rl_max_pool(const rl_conv_geometry *g, const float *x, float *y, int threads, rl_level level);

/**
 * Its gradient: dx = Σ over windows of dy at the window's first largest value in row-major tap
 * order (NaN ignored; nothing for a window with no value above −∞), as tfjs's cpu backend does.
 * Returns 0, or -1 if memory ran out.
 */
int rl_max_pool_grad(const rl_conv_geometry *g, const float *x, const float *dy, float *dx, int threads, rl_level level);

/**
 * out[c] = Σ_r x[r·cols + c] for r < rows (a bias gradient): float64 sums over RL_SUM_CHUNKS fixed
 * ranges of rows, added in order, rounded to float32. Returns 0, or -1 if memory ran out.
 */
int rl_sum_rows(const float *x, size_t rows, size_t cols, float *out, int threads, rl_level level);

#define RL_SUM_CHUNKS 8

#endif
