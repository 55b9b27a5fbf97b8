/* The aggregator's ingest kernels: received float32 payloads checked and copied in one pass. */
#ifndef RL_INGEST_H
#define RL_INGEST_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>

/*
 * Copies `count` float32 values from `src` (any alignment) to `dst` and returns the index of the
 * first value that is not finite (NaN or ±Inf: all exponent bits set), or -1 when every one is.
 * The values are copied bit for bit; the copy stops in the block of the first non-finite value
 * (dst past it is unspecified: the caller refuses the payload).
 */
ptrdiff_t rl_copy_finite_f32(float *restrict dst, const unsigned char *restrict src, size_t count);

/* Registers copyFiniteFloat32 on `exports`. */
void rl_define_ingest_kernels(napi_env env, napi_value exports);

#endif
