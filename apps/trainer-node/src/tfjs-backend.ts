import type { Logger } from 'pino';
import { initTfjsBackend } from '@rlsa/tfjs-kernels';
import type { TrainerSettings } from './options.ts';

/** Initialises the process's tfjs backend for training (the settings' backend and threads) and logs it once. */
export async function initNodeBackend(training: TrainerSettings['training'], log: Logger): Promise<string> {
  const backend = await initTfjsBackend(training.backend, training.threads !== undefined ? { threads: training.threads } : {});
  log.info({ backend: backend.backend, threads: backend.threads, kernels: backend.kernels.length, native: backend.native, skipped: backend.skipped }, `tfjs backend: ${backend.backend}`);
  return backend.backend;
}
