// Bootstrap of the aggregator's worker threads: registers tsx (the TypeScript runs from source, in
// `rlsa` as in vitest), then loads the thread's module, named by its URL in `workerData.entry`.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
