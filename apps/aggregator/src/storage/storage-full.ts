/** Error codes that mean the data dir's file system has no room (node's errno codes, better-sqlite3's result codes). */
const FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** Whether a failed write failed for lack of space (by its code: Node's errno or SQLite's result code), which a probe write can later clear. */
export function isStorageFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && FULL_CODES.has(code);
}
