/**
 * Runs `task(i)` for i = 0..count-1 with at most `limit` at a time (file reads and decodes that
 * would otherwise all start at once), and resolves when all have; rejects with the first error,
 * after which no new task starts.
 */
export async function forEachConcurrent(count: number, limit: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}
