import { existsSync, readFileSync } from 'node:fs';
import { DocsTableError } from './docs-table-error.ts';

/** A parsed JSON source and the path it was read from (for error messages). */
export interface JsonSource {
  readonly path: string;
  readonly value: unknown;
}

/** Reads and parses a table's JSON source; a missing or unparsable file is `bad_source` naming it. */
export function readJson(path: string): JsonSource {
  if (!existsSync(path)) throw new DocsTableError('bad_source', `${path}: no such file`);
  try {
    return { path, value: JSON.parse(readFileSync(path, 'utf8')) as unknown };
  } catch (error: unknown) {
    throw new DocsTableError('bad_source', `${path}: not JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
}

/** The value at `keys` (object keys or array indices), or undefined. */
export function at(value: unknown, keys: readonly (string | number)[]): unknown {
  let node = value;
  for (const key of keys) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** The number at `keys` of a source; a missing or non-numeric field is `bad_source` naming the file and field. */
export function numberAt(source: JsonSource, keys: readonly (string | number)[]): number {
  const value = at(source.value, keys);
  if (typeof value !== 'number') throw new DocsTableError('bad_source', `${source.path}: field ${keys.join('.')} is not a number`);
  return value;
}

/** The object at `keys` of a source; anything else is `bad_source` naming the file and field. */
export function objectAt(source: JsonSource, keys: readonly (string | number)[]): Record<string, unknown> {
  const value = at(source.value, keys);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DocsTableError('bad_source', `${source.path}: field ${keys.join('.') || '(root)'} is not an object`);
  }
  return value as Record<string, unknown>;
}

/** The array at `keys` of a source; anything else is `bad_source` naming the file and field. */
export function arrayAt(source: JsonSource, keys: readonly (string | number)[]): readonly unknown[] {
  const value = at(source.value, keys);
  if (!Array.isArray(value)) throw new DocsTableError('bad_source', `${source.path}: field ${keys.join('.')} is not an array`);
  return value;
}

/** The string at `keys` of a source; anything else is `bad_source` naming the file and field. */
export function stringAt(source: JsonSource, keys: readonly (string | number)[]): string {
  const value = at(source.value, keys);
  if (typeof value !== 'string') throw new DocsTableError('bad_source', `${source.path}: field ${keys.join('.')} is not a string`);
  return value;
}
