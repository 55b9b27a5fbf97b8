export { TfjsLinalg, type TfjsLinalgOptions } from './tfjs-linalg.ts';
export { createTfjsLinalg, type CreateTfjsLinalgOptions, type TfjsLinalgInfo } from './create-linalg.ts';
export { prepareWasmThreads, unrefWasmWorkers } from './wasm-threads.ts';
