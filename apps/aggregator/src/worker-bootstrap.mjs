// Bootstrap of the aggregator's worker threads: registers tsx's CommonJS hook (the TypeScript runs
// from source, under `rlsa` as in vitest), then loads the thread's module, named by its URL in
// `workerData.entry`. The CommonJS hook transforms in the thread itself; tsx's ESM `register()`
// would start a loader thread per worker (about 16 MB more each, measured). The module's default
// export is this one's: a pool thread (piscina) runs it per task.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/cjs/api';

register();
const loaded = createRequire(import.meta.url)(fileURLToPath(workerData.entry));
export default typeof loaded.default === 'function' ? loaded.default : undefined;
