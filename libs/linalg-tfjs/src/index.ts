export { TfjsLinalg, type TfjsLinalgOptions } from './tfjs-linalg.ts';
export { createTfjsLinalg, type CreateTfjsLinalgOptions, type TfjsLinalgInfo } from './create-linalg.ts';
export { prepareWasmThreads, unrefWasmWorkers } from './wasm-threads.ts';
export { linalgChoiceFromEnv, linalgForWork, TFJS_MIN_WORK, TFJS_THREADS_MIN_WORK, type ChosenLinalg, type LinalgChoice } from './linalg-for-work.ts';
