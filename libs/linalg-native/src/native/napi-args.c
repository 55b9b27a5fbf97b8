/* Argument readers shared by the Node-API bindings (see napi-args.h). */
#include "napi-args.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Returns 1 and fills `view` if `value` is a Float32Array or Float64Array (or null when allowed). */
int get_float_array(napi_env env, napi_value value, const char *name, int allow_null, int want_type, typed_view *view) {
  napi_valuetype vt;
  napi_typeof(env, value, &vt);
  if (allow_null && (vt == napi_null || vt == napi_undefined)) {
    view->data = NULL;
    view->length = 0;
    view->type = napi_float64_array;
    return 1;
  }
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  char msg[160];
  if (!is_typed) {
    snprintf(msg, sizeof msg, "%s must be a %s", name, want_type == napi_float32_array ? "Float32Array" : want_type == napi_float64_array ? "Float64Array" : "Float32Array or Float64Array");
    napi_throw_type_error(env, CODE_DTYPE, msg);
    return 0;
  }
  napi_value buffer;
  size_t offset;
  napi_get_typedarray_info(env, value, &view->type, &view->length, &view->data, &buffer, &offset);
  const int ok = want_type >= 0 ? view->type == (napi_typedarray_type)want_type
                                : view->type == napi_float32_array || view->type == napi_float64_array;
  if (!ok) {
    snprintf(msg, sizeof msg, "%s must be a %s", name, want_type == napi_float32_array ? "Float32Array" : want_type == napi_float64_array ? "Float64Array" : "Float32Array or Float64Array");
    napi_throw_type_error(env, CODE_DTYPE, msg);
    return 0;
  }
  return 1;
}

int get_size(napi_env env, napi_value value, const char *name, size_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || !(d >= 0) || d != (double)(int64_t)d || d > 9007199254740991.0) {
    char msg[120];
    snprintf(msg, sizeof msg, "%s must be a non-negative integer", name);
    napi_throw_range_error(env, CODE_ARGUMENT, msg);
    return 0;
  }
  *out = (size_t)d;
  return 1;
}

int get_optional_float(napi_env env, napi_value value, int *present, float *out) {
  napi_valuetype vt;
  napi_typeof(env, value, &vt);
  if (vt == napi_null || vt == napi_undefined) {
    *present = 0;
    return 1;
  }
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || d != d) {
    napi_throw_type_error(env, CODE_ARGUMENT, "clamp bounds must be numbers or null");
    return 0;
  }
  *present = 1;
  *out = (float)d;
  return 1;
}

int get_threads_level(napi_env env, napi_value tv, napi_value lv, int *threads, rl_level *level) {
  double t;
  if (napi_get_value_double(env, tv, &t) != napi_ok || !(t >= 1) || t > 64 || t != (double)(int)t) {
    napi_throw_range_error(env, CODE_ARGUMENT, "threads must be an integer in [1, 64]");
    return 0;
  }
  *threads = (int)t;
  char name[16] = {0};
  size_t len = 0;
  if (napi_get_value_string_utf8(env, lv, name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, CODE_LEVEL, "level must be 'avx512', 'avx2' or 'portable'");
    return 0;
  }
  rl_level want;
  if (strcmp(name, "avx512") == 0) want = RL_LEVEL_AVX512;
  else if (strcmp(name, "avx2") == 0) want = RL_LEVEL_AVX2;
  else if (strcmp(name, "portable") == 0) want = RL_LEVEL_PORTABLE;
  else {
    napi_throw_range_error(env, CODE_LEVEL, "level must be 'avx512', 'avx2' or 'portable'");
    return 0;
  }
  if (want > rl_cpu_level()) {
    char msg[120];
    snprintf(msg, sizeof msg, "this CPU does not support the %s level (best: %s)", name, rl_level_name(rl_cpu_level()));
    napi_throw_range_error(env, CODE_LEVEL, msg);
    return 0;
  }
  *level = want;
  return 1;
}

int shape_error(napi_env env, const char *what, size_t got, size_t want) {
  char msg[200];
  snprintf(msg, sizeof msg, "%s has %zu elements, expected %zu", what, got, want);
  napi_throw_range_error(env, CODE_SHAPE, msg);
  return 0;
}

/* Reads exactly `count` arguments into argv (sized `count`); otherwise throws "<name> takes <count> arguments". */
int get_args(napi_env env, napi_callback_info info, size_t count, napi_value *argv, const char *name) {
  size_t argc = count;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == count) return 1;
  char msg[80];
  snprintf(msg, sizeof msg, "%s takes %zu arguments", name, count);
  napi_throw_type_error(env, CODE_ARGUMENT, msg);
  return 0;
}

