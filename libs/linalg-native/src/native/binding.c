/*
 * Node-API binding of the GEMM kernels (synchronous calls, like the rest of the core's Linalg).
 *
 *   cpuLevel(): 'avx512' | 'avx2' | 'portable'               best level of this CPU
 *   gemmAbt(a, m, k, b, n, out, aShift, aScale, clampLo, clampHi, threads, level)
 *   gemmAtb(a, m, k, b, n, out, aShift, bShift, symmetric, threads, level)
 *   columnSums(a, m, k, shift, threads, level): Float64Array(k)
 *   adviseHugePages(view): asks for transparent huge pages on a typed array's memory before its first touch
 *   addFloat32ToFloat64(sums, sumsOffset, values, valuesOffset, count): sums[sumsOffset + i] += values[valuesOffset + i], i < count
 *
 * a, b: Float32Array or Float64Array; out: Float32Array (m×n) for gemmAbt, Float64Array (k×n,
 * accumulated into) for gemmAtb; shifts/scales: Float64Array or null; clampLo/clampHi: numbers or
 * null. Bad arguments throw a TypeError/RangeError whose `code` is one of ERR_RLSA_NATIVE_DTYPE,
 * ERR_RLSA_NATIVE_SHAPE, ERR_RLSA_NATIVE_ARGUMENT, ERR_RLSA_NATIVE_LEVEL; ERR_RLSA_NATIVE_MEMORY
 * when a packing buffer cannot be allocated. The training kernels are in binding-train.c, the
 * ingest's copy-and-check in ingest.c.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "binding-train.h"
#include "ingest.h"
#include "gemm.h"
#include "napi-args.h"

static napi_value gemm_abt(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  if (!get_args(env, info, 12, argv, "gemmAbt")) return NULL;
  typed_view a, b, out, shift, scale;
  size_t m, k, n;
  int has_lo, has_hi, threads;
  float lo = 0, hi = 0;
  rl_level level;
  if (!get_float_array(env, argv[0], "a", 0, -1, &a) || !get_size(env, argv[1], "m", &m) || !get_size(env, argv[2], "k", &k) ||
      !get_float_array(env, argv[3], "b", 0, -1, &b) || !get_size(env, argv[4], "n", &n) ||
      !get_float_array(env, argv[5], "out", 0, napi_float32_array, &out) ||
      !get_float_array(env, argv[6], "aShift", 1, napi_float64_array, &shift) ||
      !get_float_array(env, argv[7], "aScale", 1, napi_float64_array, &scale) || !get_optional_float(env, argv[8], &has_lo, &lo) ||
      !get_optional_float(env, argv[9], &has_hi, &hi) || !get_threads_level(env, argv[10], argv[11], &threads, &level))
    return NULL;
  if (a.length != m * k) return shape_error(env, "a", a.length, m * k), NULL;
  if (b.length != n * k) return shape_error(env, "b", b.length, n * k), NULL;
  if (out.length != m * n) return shape_error(env, "out", out.length, m * n), NULL;
  if (shift.data && shift.length != k) return shape_error(env, "aShift", shift.length, k), NULL;
  if (scale.data && scale.length != m) return shape_error(env, "aScale", scale.length, m), NULL;
  if (has_lo != has_hi || (has_lo && !(lo <= hi))) {
    napi_throw_range_error(env, CODE_ARGUMENT, "clampLo and clampHi must both be given, with clampLo <= clampHi");
    return NULL;
  }
  const rl_matrix am = {a.data, a.type == napi_float64_array, m, k};
  const rl_matrix bm = {b.data, b.type == napi_float64_array, n, k};
  if (rl_gemm_abt(&am, &bm, (float *)out.data, (const double *)shift.data, (const double *)scale.data, has_lo, lo, hi, threads, level) != 0) {
    napi_throw_error(env, CODE_MEMORY, "gemmAbt: out of memory for the packing buffers");
  }
  return NULL;
}

static napi_value gemm_atb(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (!get_args(env, info, 11, argv, "gemmAtb")) return NULL;
  typed_view a, b, out, sa, sb;
  size_t m, k, n;
  bool symmetric = false;
  int threads;
  rl_level level;
  if (!get_float_array(env, argv[0], "a", 0, -1, &a) || !get_size(env, argv[1], "m", &m) || !get_size(env, argv[2], "k", &k) ||
      !get_float_array(env, argv[3], "b", 0, -1, &b) || !get_size(env, argv[4], "n", &n) ||
      !get_float_array(env, argv[5], "out", 0, napi_float64_array, &out) ||
      !get_float_array(env, argv[6], "aShift", 1, napi_float64_array, &sa) ||
      !get_float_array(env, argv[7], "bShift", 1, napi_float64_array, &sb))
    return NULL;
  if (napi_get_value_bool(env, argv[8], &symmetric) != napi_ok) {
    napi_throw_type_error(env, CODE_ARGUMENT, "symmetric must be a boolean");
    return NULL;
  }
  if (!get_threads_level(env, argv[9], argv[10], &threads, &level)) return NULL;
  if (a.length != m * k) return shape_error(env, "a", a.length, m * k), NULL;
  if (b.length != m * n) return shape_error(env, "b", b.length, m * n), NULL;
  if (out.length != k * n) return shape_error(env, "out", out.length, k * n), NULL;
  if (sa.data && sa.length != k) return shape_error(env, "aShift", sa.length, k), NULL;
  if (sb.data && sb.length != n) return shape_error(env, "bShift", sb.length, n), NULL;
  if (symmetric && (k != n || a.data != b.data || a.type != b.type || sa.data != sb.data)) {
    napi_throw_range_error(env, CODE_ARGUMENT, "symmetric needs the same data and shift for a and b");
    return NULL;
  }
  const rl_matrix am = {a.data, a.type == napi_float64_array, m, k};
  const rl_matrix bm = {b.data, b.type == napi_float64_array, m, n};
  if (rl_gemm_atb(&am, &bm, (double *)out.data, (const double *)sa.data, (const double *)sb.data, symmetric, threads, level) != 0) {
    napi_throw_error(env, CODE_MEMORY, "gemmAtb: out of memory for the packing buffers");
  }
  return NULL;
}

static napi_value column_sums(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv, "columnSums")) return NULL;
  typed_view a, shift;
  size_t m, k;
  int threads;
  rl_level level;
  if (!get_float_array(env, argv[0], "a", 0, -1, &a) || !get_size(env, argv[1], "m", &m) || !get_size(env, argv[2], "k", &k) ||
      !get_float_array(env, argv[3], "shift", 1, napi_float64_array, &shift) || !get_threads_level(env, argv[4], argv[5], &threads, &level))
    return NULL;
  if (a.length != m * k) return shape_error(env, "a", a.length, m * k), NULL;
  if (shift.data && shift.length != k) return shape_error(env, "shift", shift.length, k), NULL;
  napi_value buffer, result;
  void *data = NULL;
  if (napi_create_arraybuffer(env, k * sizeof(double), &data, &buffer) != napi_ok ||
      napi_create_typedarray(env, napi_float64_array, k, buffer, 0, &result) != napi_ok) {
    napi_throw_error(env, CODE_MEMORY, "columnSums: cannot allocate the result");
    return NULL;
  }
  const rl_matrix am = {a.data, a.type == napi_float64_array, m, k};
  rl_column_sums(&am, (const double *)shift.data, (double *)data, threads, level);
  return result;
}

static napi_value advise_huge_pages(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_typed = false;
  if (argc < 1 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed) {
    napi_throw_type_error(env, CODE_ARGUMENT, "adviseHugePages takes a typed array");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void *data = NULL;
  napi_value buffer;
  napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset);
  size_t element = type == napi_float64_array || type == napi_bigint64_array || type == napi_biguint64_array ? 8
                   : type == napi_float32_array || type == napi_int32_array || type == napi_uint32_array ? 4
                   : type == napi_int16_array || type == napi_uint16_array ? 2
                                                                          : 1;
  if (data != NULL) rl_advise_huge_pages(data, length * element);
  return NULL;
}

static napi_value add_float32_to_float64(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "addFloat32ToFloat64")) return NULL;
  typed_view sums, values;
  size_t sums_offset, values_offset, count;
  if (!get_float_array(env, argv[0], "sums", 0, napi_float64_array, &sums) || !get_size(env, argv[1], "sumsOffset", &sums_offset) ||
      !get_float_array(env, argv[2], "values", 0, napi_float32_array, &values) || !get_size(env, argv[3], "valuesOffset", &values_offset) ||
      !get_size(env, argv[4], "count", &count)) {
    return NULL;
  }
  if (sums_offset > sums.length || count > sums.length - sums_offset || values_offset > values.length || count > values.length - values_offset) {
    napi_throw_range_error(env, CODE_SHAPE, "addFloat32ToFloat64: a range lies outside its array");
    return NULL;
  }
  rl_add_f32_to_f64((double *)sums.data + sums_offset, (const float *)values.data + values_offset, count);
  return NULL;
}

static napi_value cpu_level(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_string_utf8(env, rl_level_name(rl_cpu_level()), NAPI_AUTO_LENGTH, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"cpuLevel", NULL, cpu_level, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gemmAbt", NULL, gemm_abt, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gemmAtb", NULL, gemm_atb, NULL, NULL, NULL, napi_enumerable, NULL},
      {"columnSums", NULL, column_sums, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adviseHugePages", NULL, advise_huge_pages, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addFloat32ToFloat64", NULL, add_float32_to_float64, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  rl_define_training_kernels(env, exports);
  rl_define_ingest_kernels(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
