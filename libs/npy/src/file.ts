import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { decodeNpy, encodeNpy, type NpyArray } from './codec.ts';
import { NpyError } from './npy-error.ts';

/** Reads and decodes an NPY file; errors name the file (`not_found`, `io_error`, or a format code). */
export function readNpy(path: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw ioError(error, path, 'read');
  }
  return decodeNpy(bytes, path);
}

/**
 * Encodes and writes an NPY file. The bytes go to a temporary file beside `path` that is then
 * renamed, so a reader never sees half a file and a failed write leaves no partial output.
 */
export function writeNpy(path: string, array: NpyArray): void {
  const bytes = encodeNpy(array);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, bytes);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw ioError(error, path, 'write');
  }
}

/** A file-system failure as an NpyError naming the file (`not_found` or `io_error`). */
export function ioError(error: unknown, path: string, verb: 'read' | 'write'): NpyError {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') {
    return new NpyError('not_found', verb === 'read' ? 'no such file' : 'the folder does not exist', { source: path, cause: error });
  }
  const reason = code === 'EISDIR' ? 'is a directory' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : error instanceof Error ? error.message : String(error);
  return new NpyError('io_error', `cannot ${verb}: ${reason}`, { source: path, cause: error });
}
