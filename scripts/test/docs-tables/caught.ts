import { DocsTableError } from '../../docs-tables/docs-table-error.ts';

/** The DocsTableError `run` throws (or its promise rejects with); fails the test if there is none. */
export async function caught(run: () => unknown): Promise<DocsTableError> {
  try {
    await run();
  } catch (error: unknown) {
    if (error instanceof DocsTableError) return error;
    throw error;
  }
  throw new Error('expected a DocsTableError, got none');
}
