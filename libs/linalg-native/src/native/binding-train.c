/*
 * Node-API binding of the training kernels (synchronous; each call may use `threads` threads).
 * Tensors are Float32Array views (the tfjs wasm backend passes views of its heap, made after its
 * last allocation), sized exactly as the shapes say; outputs must not overlap inputs.
 *
 *   conv2dForward(x, filter, bias | null, y, geometry, threads, level)
 *   conv2dBackpropInput(dy, filter, dx, geometry, threads, level)
 *   conv2dBackpropFilter(x, dy, dw, geometry, threads, level)
 *     geometry: Int32Array [batch, inH, inW, inC, outH, outW, outC, fh, fw, strideH, strideW, padTop, padLeft]
 *   matmul(a, b, bias | null, c, dims, threads, level)
 *     dims: Int32Array [batch, batchA, batchB, m, n, k, transposeA, transposeB]
 *   silu(x, y | null, s, threads, level)            s = sigmoid(x), y = x·s
 *   siluGrad(dy, s, x, dx, threads, level)          dx = dy·s·(1 + x·(1 − s))
 *   maxPool(x, y, geometry, threads, level)         geometry as above, the window as the filter, inC = outC
 *   maxPoolGrad(x, dy, dx, geometry, threads, level)
 *   sumRows(x, rows, cols, out, threads, level)     out[c] = Σ_r x[r, c]
 *
 * Errors are coded as in binding.c (ERR_RLSA_NATIVE_SHAPE for sizes, ERR_RLSA_NATIVE_ARGUMENT for
 * a bad geometry, ERR_RLSA_NATIVE_MEMORY when scratch memory cannot be allocated).
 */
#include "binding-train.h"

#include <stdbool.h>
#include <stdio.h>

#include "conv.h"
#include "elementwise.h"
#include "matmul.h"
#include "napi-args.h"

/* Reads an Int32Array of exactly `count` values into out. */
static int get_int32s(napi_env env, napi_value value, const char *name, size_t count, long *out) {
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void *data = NULL;
  napi_value buffer;
  if (is_typed) napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, &offset);
  if (!is_typed || type != napi_int32_array || length != count) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s must be an Int32Array of %zu values", name, count);
    napi_throw_type_error(env, CODE_ARGUMENT, msg);
    return 0;
  }
  for (size_t i = 0; i < count; i++) out[i] = ((const int *)data)[i];
  return 1;
}

static int get_f32(napi_env env, napi_value value, const char *name, int allow_null, size_t want, typed_view *view) {
  if (!get_float_array(env, value, name, allow_null, napi_float32_array, view)) return 0;
  if (view->data == NULL) return 1;
  if (view->length != want) return shape_error(env, name, view->length, want);
  return 1;
}

static int get_geometry(napi_env env, napi_value value, rl_conv_geometry *g) {
  long v[13];
  if (!get_int32s(env, value, "geometry", 13, v)) return 0;
  const rl_conv_geometry read = {v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]};
  *g = read;
  if (rl_conv_check(g) != 0) {
    napi_throw_range_error(env, CODE_ARGUMENT, "geometry is not a valid convolution (sizes, strides, padding)");
    return 0;
  }
  return 1;
}

static napi_value memory_error(napi_env env, const char *what) {
  char msg[120];
  snprintf(msg, sizeof msg, "%s: out of memory for the scratch buffers", what);
  napi_throw_error(env, CODE_MEMORY, msg);
  return NULL;
}

static size_t x_size(const rl_conv_geometry *g) { return (size_t)(g->batch * g->in_h * g->in_w * g->in_c); }
static size_t y_size(const rl_conv_geometry *g) { return (size_t)(g->batch * g->out_h * g->out_w * g->out_c); }
static size_t w_size(const rl_conv_geometry *g) { return (size_t)(g->fh * g->fw * g->in_c * g->out_c); }

static napi_value conv2d_forward(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv, "conv2dForward")) return NULL;
  rl_conv_geometry g;
  typed_view x, w, bias, y;
  int threads;
  rl_level level;
  if (!get_geometry(env, argv[4], &g) || !get_f32(env, argv[0], "x", 0, x_size(&g), &x) || !get_f32(env, argv[1], "filter", 0, w_size(&g), &w) ||
      !get_f32(env, argv[2], "bias", 1, (size_t)g.out_c, &bias) || !get_f32(env, argv[3], "y", 0, y_size(&g), &y) ||
      !get_threads_level(env, argv[5], argv[6], &threads, &level))
    return NULL;
  if (rl_conv2d_forward(&g, x.data, w.data, bias.data, y.data, threads, level) != 0) return memory_error(env, "conv2dForward");
  return NULL;
}

static napi_value conv2d_backprop_input(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv, "conv2dBackpropInput")) return NULL;
  rl_conv_geometry g;
  typed_view dy, w, dx;
  int threads;
  rl_level level;
  if (!get_geometry(env, argv[3], &g) || !get_f32(env, argv[0], "dy", 0, y_size(&g), &dy) || !get_f32(env, argv[1], "filter", 0, w_size(&g), &w) ||
      !get_f32(env, argv[2], "dx", 0, x_size(&g), &dx) || !get_threads_level(env, argv[4], argv[5], &threads, &level))
    return NULL;
  if (rl_conv2d_backprop_input(&g, dy.data, w.data, dx.data, threads, level) != 0) return memory_error(env, "conv2dBackpropInput");
  return NULL;
}

static napi_value conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv, "conv2dBackpropFilter")) return NULL;
  rl_conv_geometry g;
  typed_view x, dy, dw;
  int threads;
  rl_level level;
  if (!get_geometry(env, argv[3], &g) || !get_f32(env, argv[0], "x", 0, x_size(&g), &x) || !get_f32(env, argv[1], "dy", 0, y_size(&g), &dy) ||
      !get_f32(env, argv[2], "dw", 0, w_size(&g), &dw) || !get_threads_level(env, argv[4], argv[5], &threads, &level))
    return NULL;
  if (rl_conv2d_backprop_filter(&g, x.data, dy.data, dw.data, threads, level) != 0) return memory_error(env, "conv2dBackpropFilter");
  return NULL;
}

static napi_value matmul(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!get_args(env, info, 7, argv, "matmul")) return NULL;
  long d[8];
  if (!get_int32s(env, argv[4], "dims", 8, d)) return NULL;
  const long batch = d[0], batch_a = d[1], batch_b = d[2], m = d[3], n = d[4], k = d[5];
  if (batch < 1 || m < 0 || n < 0 || k < 0 || (batch_a != 1 && batch_a != batch) || (batch_b != 1 && batch_b != batch) ||
      (d[6] != 0 && d[6] != 1) || (d[7] != 0 && d[7] != 1)) {
    napi_throw_range_error(env, CODE_ARGUMENT, "dims must be [batch ≥ 1, batchA ∈ {1, batch}, batchB ∈ {1, batch}, m, n, k ≥ 0, transposeA, transposeB ∈ {0, 1}]");
    return NULL;
  }
  typed_view a, b, bias, c;
  int threads;
  rl_level level;
  if (!get_f32(env, argv[0], "a", 0, (size_t)(batch_a * m * k), &a) || !get_f32(env, argv[1], "b", 0, (size_t)(batch_b * k * n), &b) ||
      !get_f32(env, argv[2], "bias", 1, (size_t)n, &bias) || !get_f32(env, argv[3], "c", 0, (size_t)(batch * m * n), &c) ||
      !get_threads_level(env, argv[5], argv[6], &threads, &level))
    return NULL;
  if (rl_matmul(batch, batch_a, batch_b, m, n, k, a.data, (int)d[6], b.data, (int)d[7], bias.data, c.data, threads, level) != 0)
    return memory_error(env, "matmul");
  return NULL;
}

static napi_value silu(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "silu")) return NULL;
  typed_view x, y, sg;
  int threads;
  rl_level level;
  if (!get_float_array(env, argv[0], "x", 0, napi_float32_array, &x) || !get_f32(env, argv[1], "y", 1, x.length, &y) ||
      !get_f32(env, argv[2], "s", 0, x.length, &sg) || !get_threads_level(env, argv[3], argv[4], &threads, &level))
    return NULL;
  rl_silu(x.data, y.data, sg.data, x.length, threads, level);
  return NULL;
}

static napi_value silu_grad(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv, "siluGrad")) return NULL;
  typed_view dy, sg, x, dx;
  int threads;
  rl_level level;
  if (!get_float_array(env, argv[0], "dy", 0, napi_float32_array, &dy) || !get_f32(env, argv[1], "s", 0, dy.length, &sg) ||
      !get_f32(env, argv[2], "x", 0, dy.length, &x) || !get_f32(env, argv[3], "dx", 0, dy.length, &dx) ||
      !get_threads_level(env, argv[4], argv[5], &threads, &level))
    return NULL;
  rl_silu_grad(dy.data, sg.data, x.data, dx.data, dy.length, threads, level);
  return NULL;
}

static int get_pool_geometry(napi_env env, napi_value value, rl_conv_geometry *g) {
  if (!get_geometry(env, value, g)) return 0;
  if (g->in_c != g->out_c) {
    napi_throw_range_error(env, CODE_ARGUMENT, "a pooling geometry has as many output channels as input channels");
    return 0;
  }
  return 1;
}

static napi_value max_pool(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "maxPool")) return NULL;
  rl_conv_geometry g;
  typed_view x, y;
  int threads;
  rl_level level;
  if (!get_pool_geometry(env, argv[2], &g) || !get_f32(env, argv[0], "x", 0, x_size(&g), &x) || !get_f32(env, argv[1], "y", 0, y_size(&g), &y) ||
      !get_threads_level(env, argv[3], argv[4], &threads, &level))
    return NULL;
  rl_max_pool(&g, x.data, y.data, threads, level);
  return NULL;
}

static napi_value max_pool_grad(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv, "maxPoolGrad")) return NULL;
  rl_conv_geometry g;
  typed_view x, dy, dx;
  int threads;
  rl_level level;
  if (!get_pool_geometry(env, argv[3], &g) || !get_f32(env, argv[0], "x", 0, x_size(&g), &x) || !get_f32(env, argv[1], "dy", 0, y_size(&g), &dy) ||
      !get_f32(env, argv[2], "dx", 0, x_size(&g), &dx) || !get_threads_level(env, argv[4], argv[5], &threads, &level))
    return NULL;
  if (rl_max_pool_grad(&g, x.data, dy.data, dx.data, threads, level) != 0) return memory_error(env, "maxPoolGrad");
  return NULL;
}

static napi_value sum_rows(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv, "sumRows")) return NULL;
  typed_view x, out;
  size_t rows, cols;
  int threads;
  rl_level level;
  if (!get_size(env, argv[1], "rows", &rows) || !get_size(env, argv[2], "cols", &cols) || !get_f32(env, argv[0], "x", 0, rows * cols, &x) ||
      !get_f32(env, argv[3], "out", 0, cols, &out) || !get_threads_level(env, argv[4], argv[5], &threads, &level))
    return NULL;
  if (rl_sum_rows(x.data, rows, cols, out.data, threads, level) != 0) return memory_error(env, "sumRows");
  return NULL;
}

void rl_define_training_kernels(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"conv2dForward", NULL, conv2d_forward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropInput", NULL, conv2d_backprop_input, NULL, NULL, NULL, napi_enumerable, NULL},
      {"conv2dBackpropFilter", NULL, conv2d_backprop_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"matmul", NULL, matmul, NULL, NULL, NULL, napi_enumerable, NULL},
      {"silu", NULL, silu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"siluGrad", NULL, silu_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"maxPool", NULL, max_pool, NULL, NULL, NULL, napi_enumerable, NULL},
      {"maxPoolGrad", NULL, max_pool_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sumRows", NULL, sum_rows, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
