/* The training kernels' Node-API functions (binding-train.c), added to the addon's exports by binding.c. */
#ifndef RL_BINDING_TRAIN_H
#define RL_BINDING_TRAIN_H

#include "napi-args.h"

void rl_define_training_kernels(napi_env env, napi_value exports);

#endif
