import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.ts';

/** Reads a whole file, with a DataError naming the file when it is missing or unreadable. */
export function readFileOrThrow(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error: unknown) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT') throw new DataError('not_found', `${file}: no such file`, file, { cause: error });
    throw new DataError('not_found', `${file}: cannot read (${String(code ?? error)})`, file, { cause: error });
  }
}

/** Whether a path exists and is a file. */
export function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Whether a path exists and is a directory. */
export function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The file's content, gunzipped when it starts with the gzip magic (1f 8b) whatever its name;
 * a damaged or cut gzip stream is a `truncated` error naming the file.
 */
export function readMaybeGzipped(file: string): Buffer {
  const raw = readFileOrThrow(file);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return gunzipSync(raw);
    } catch (error: unknown) {
      throw new DataError('truncated', `${file}: damaged or truncated gzip stream (${(error as Error).message})`, file, {
        cause: error,
      });
    }
  }
  return raw;
}
