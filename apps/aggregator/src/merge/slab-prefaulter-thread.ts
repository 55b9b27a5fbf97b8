import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { nameThisThread } from '../worker-thread.ts';
import { HugePageChoice } from './huge-page-choice.ts';

export type PrefaultRequest = { kind: 'request'; bytes: number; slabBytes: number } | { kind: 'stop' };
export interface PrefaultReply {
  slabBytes: number;
  buffer: SharedArrayBuffer;
}
export interface PrefaulterThreadData {
  /** The native addon (its `adviseHugePages`), or null. */
  addonPath: string | null;
}

/** Bytes of a page the kernel maps on first touch. */
const PAGE_BYTES = 4096;

const port = parentPort;
if (port === null) throw new Error('slab-prefaulter-thread.ts runs in a worker thread');
const { addonPath } = workerData as PrefaulterThreadData;
/** Niceness added to the prefaulter thread: memory prepared ahead of need waits for the cores the event loop and the writer do not want. */
const PREFAULT_NICENESS = 10;
nameThisThread('rlsa-prefault', PREFAULT_NICENESS);

/** The addon's huge-page advice, or null when there is no addon or it does not load here. */
function loadAdvice(): ((view: Uint8Array) => void) | null {
  if (addonPath === null) return null;
  try {
    const addon = createRequire(import.meta.url)(addonPath) as { adviseHugePages: (view: Uint8Array) => void };
    return (view) => addon.adviseHugePages(view);
  } catch {
    return null;
  }
}
const adviseHugePages = loadAdvice();

const hugePages = new HugePageChoice();

// Allocates a zero-filled SharedArrayBuffer, asks for huge pages on it when the addon loaded and
// that costs less here (HugePageChoice), and writes a zero into every 4 KB page, so that the
// kernel maps the pages here and not in the event loop's first `+=` into a fresh slab.
port.on('message', (message: PrefaultRequest) => {
  if (message.kind === 'stop') {
    port.close();
    return;
  }
  const started = process.hrtime.bigint();
  const buffer = new SharedArrayBuffer(message.bytes);
  const view = new Uint8Array(buffer);
  const advised = adviseHugePages !== null && hugePages.next();
  if (advised) adviseHugePages(view);
  for (let i = 0; i < message.bytes; i += PAGE_BYTES) view[i] = 0;
  if (adviseHugePages !== null) hugePages.record(advised, Number(process.hrtime.bigint() - started) / 1e9 / message.bytes);
  port.postMessage({ slabBytes: message.slabBytes, buffer } satisfies PrefaultReply);
});
