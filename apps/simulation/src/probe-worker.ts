import { parentPort, workerData } from 'node:worker_threads';
import { initTfjsBackend, type BackendPreference } from '@rlsa/tfjs-kernels';
import { trainProbe } from './probe.ts';
import type { ProbeJob, ProbeReply } from './probe-pool.ts';

/** A worker thread that trains probes one job at a time (see probe-pool.ts). */
const port = parentPort;
if (!port) throw new Error('probe-worker.ts must run in a worker thread');
const ready = initTfjsBackend((workerData as { backend: BackendPreference }).backend);
port.on('message', (job: ProbeJob) => {
  void (async () => {
    try {
      await ready;
      const result = await trainProbe(job.train, job.trainLabels, job.test, job.testLabels, job.options);
      port.postMessage({ id: job.id, result } satisfies ProbeReply);
    } catch (error: unknown) {
      port.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) } satisfies ProbeReply);
    }
  })();
});
