import { chmodSync, closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Owner read/write only: private keys, token hashes and backups are nobody else's business. */
export const PRIVATE_MODE = 0o600;

/**
 * Creates an empty file readable by its owner only, failing if it exists. A key is then written
 * into it by openssl, so the key never exists on disk with wider permissions, not even briefly.
 */
export function createPrivateFile(path: string): void {
  const fd = openSync(path, 'wx', PRIVATE_MODE);
  closeSync(fd);
  chmodSync(path, PRIVATE_MODE); // the umask may have removed bits, never added: make it exact
}

/**
 * Writes `data` to `path` atomically (a private temporary file, fsync, rename, fsync of the
 * directory): a reader, or the aggregator reloading its tokens file, sees the old or the new
 * content, never half of one.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = PRIVATE_MODE): void {
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } catch (error: unknown) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  chmodSync(temporary, mode);
  renameSync(temporary, path);
  syncDirectory(dirname(path));
}

/** fsync of a directory, so that a rename in it survives a power cut. */
export function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
