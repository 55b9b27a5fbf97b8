// Bootstrap of a probe worker thread: registers tsx (TypeScript runs from source), then loads the worker.
import { register } from 'tsx/esm/api';

register();
await import('./probe-worker.ts');
