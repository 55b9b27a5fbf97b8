export { NativeLinalg, type NativeLinalgOptions } from './native-linalg.ts';
export { ADDON_PATH, nativeLinalgStatus, SIMD_LEVELS, type NativeStatus, type SimdLevel } from './addon.ts';
export { adviseHugePages } from './huge-pages.ts';
export { nativeAddFloat32ToFloat64, type AddFloat32ToFloat64 } from './accumulate.ts';
export { nativeCopyFiniteFloat32, type CopyFiniteFloat32 } from './ingest-kernels.ts';
export { MAX_NATIVE_THREADS, resolveNativeThreads } from './native-options.ts';
export {
  CONV_GEOMETRY_LENGTH,
  nativeTrainingKernels,
  type ConvGeometry,
  type MatmulDims,
  type NativeTrainingKernelOptions,
  type NativeTrainingKernels,
} from './training-kernels.ts';
