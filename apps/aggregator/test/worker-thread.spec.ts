import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startThread } from '../src/worker-thread.ts';

describe.runIf(existsSync('/proc/thread-self'))('nameThisThread (Linux)', () => {
  it('names the calling thread and lowers its priority by the niceness given, leaving the event loop as it was', async () => {
    const nice = (tid: number): number => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ')[16]);
    const mainBefore = nice(process.pid);
    const worker = startThread(new URL('./fixtures/named-thread.ts', import.meta.url), {});
    try {
      const tid = await new Promise<number>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()).toBe('rlsa-test');
      expect(nice(tid)).toBe(Math.min(19, mainBefore + 3));
      expect(nice(process.pid)).toBe(mainBefore);
    } finally {
      await worker.terminate();
    }
  });
});
