export { TfjsKernelsError, type TfjsKernelsErrorCode } from './errors.ts';
export { BACKENDS } from './backends.ts';
export {
  BACKEND_PREFERENCES,
  currentTfjsBackend,
  initTfjsBackend,
  wasmDistDir,
  type BackendName,
  type BackendPreference,
  type InitTfjsBackendOptions,
  type NativeKernelsInfo,
  type TfjsBackendInfo,
} from './init-backend.ts';
export {
  registerWasmTrainingKernels,
  restoreStockWasmKernels,
  WASM_TRAINING_KERNEL_NAMES,
  type KernelSelection,
} from './register-wasm-kernels.ts';
export { useLazyConvInputGradients } from './lazy-conv-input-gradient.ts';
export { useFusedSiluGradients } from './fused-silu.ts';
export { setSimdKernelsEnabled } from './simd/simd-kernels.ts';
export { NATIVE_KERNEL_NAMES, registerNativeTrainingKernels, restoreReplacedByNative } from './native/register-native-kernels.ts';
