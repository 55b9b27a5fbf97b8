/*
 * Node-API binding of the ingest kernel:
 *
 *   copyFiniteFloat32(src: Uint8Array, dst: TypedArray, count): number
 *     copies count float32 values from src's bytes (any alignment) into dst's first 4·count bytes
 *     and returns the index of the first NaN or ±Inf (the copy stops there), or -1.
 *
 * One pass over the received bytes instead of two (a copy, then a check of the copy), and a real
 * memcpy where dst is shared memory: V8 copies into a SharedArrayBuffer element by element.
 */
#include "ingest.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "napi-args.h"

/* Values per block: copied with memcpy, then scanned while they are in L1. */
#define BLOCK 1024

static const uint32_t EXPONENT = 0x7f800000u;

ptrdiff_t rl_copy_finite_f32(float *restrict dst, const unsigned char *restrict src, size_t count) {
  for (size_t start = 0; start < count; start += BLOCK) {
    const size_t n = count - start < BLOCK ? count - start : BLOCK;
    memcpy(dst + start, src + 4 * start, 4 * n);
    const uint32_t *bits = (const uint32_t *)(dst + start);
    /* Branch-free over the block (vectorised by the compiler): a value is not finite exactly when its exponent bits are all set. */
    uint32_t any = 0;
    for (size_t i = 0; i < n; i++) any |= (uint32_t)((bits[i] & EXPONENT) == EXPONENT);
    if (any != 0) {
      for (size_t i = 0; i < n; i++)
        if ((bits[i] & EXPONENT) == EXPONENT) return (ptrdiff_t)(start + i);
    }
  }
  return -1;
}

/* A typed array's bytes: where they start and how many. */
static int get_bytes(napi_env env, napi_value value, const char *name, unsigned char **data, size_t *bytes) {
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  if (!is_typed) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s must be a typed array", name);
    napi_throw_type_error(env, CODE_DTYPE, msg);
    return 0;
  }
  napi_typedarray_type type;
  size_t length = 0, offset = 0;
  void *start = NULL;
  napi_value buffer;
  napi_get_typedarray_info(env, value, &type, &length, &start, &buffer, &offset);
  size_t element = type == napi_float64_array || type == napi_bigint64_array || type == napi_biguint64_array ? 8
                   : type == napi_float32_array || type == napi_int32_array || type == napi_uint32_array ? 4
                   : type == napi_int16_array || type == napi_uint16_array ? 2
                                                                          : 1;
  *data = (unsigned char *)start;
  *bytes = length * element;
  return 1;
}

static napi_value copy_finite_float32(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "copyFiniteFloat32")) return NULL;
  unsigned char *src = NULL, *dst = NULL;
  size_t src_bytes = 0, dst_bytes = 0, count = 0;
  if (!get_bytes(env, argv[0], "src", &src, &src_bytes) || !get_bytes(env, argv[1], "dst", &dst, &dst_bytes) || !get_size(env, argv[2], "count", &count)) return NULL;
  if (count > src_bytes / 4 || count > dst_bytes / 4) {
    napi_throw_range_error(env, CODE_SHAPE, "copyFiniteFloat32: count values do not fit src or dst");
    return NULL;
  }
  if (((uintptr_t)dst & 3u) != 0) {
    napi_throw_range_error(env, CODE_ARGUMENT, "copyFiniteFloat32: dst must be 4-byte aligned");
    return NULL;
  }
  const ptrdiff_t bad = count == 0 ? -1 : rl_copy_finite_f32((float *)dst, src, count);
  napi_value result;
  napi_create_double(env, (double)bad, &result);
  return result;
}

void rl_define_ingest_kernels(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"copyFiniteFloat32", NULL, copy_finite_float32, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
