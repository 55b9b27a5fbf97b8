/* Argument readers shared by the Node-API bindings: each checks one argument and throws a coded error when it is wrong. */
#ifndef RL_NAPI_ARGS_H
#define RL_NAPI_ARGS_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>

#include "gemm.h"

#define CODE_DTYPE "ERR_RLSA_NATIVE_DTYPE"
#define CODE_SHAPE "ERR_RLSA_NATIVE_SHAPE"
#define CODE_ARGUMENT "ERR_RLSA_NATIVE_ARGUMENT"
#define CODE_LEVEL "ERR_RLSA_NATIVE_LEVEL"
#define CODE_MEMORY "ERR_RLSA_NATIVE_MEMORY"

typedef struct {
  void *data;
  size_t length;
  napi_typedarray_type type;
} typed_view;

/* Returns 1 and fills `view` if `value` is a Float32Array or Float64Array (of `want_type` unless it is -1; or null when allowed). */
int get_float_array(napi_env env, napi_value value, const char *name, int allow_null, int want_type, typed_view *view);
/* A non-negative integer (a size or an offset). */
int get_size(napi_env env, napi_value value, const char *name, size_t *out);
/* A number, or null/undefined (present = 0). */
int get_optional_float(napi_env env, napi_value value, int *present, float *out);
/* threads in [1, 64] and a level name this CPU supports. */
int get_threads_level(napi_env env, napi_value tv, napi_value lv, int *threads, rl_level *level);
/* Throws "<what> has <got> elements, expected <want>"; returns 0. */
int shape_error(napi_env env, const char *what, size_t got, size_t want);
/* Reads exactly `count` arguments into argv (sized `count`); otherwise throws "<name> takes <count> arguments". */
int get_args(napi_env env, napi_callback_info info, size_t count, napi_value *argv, const char *name);

#endif
