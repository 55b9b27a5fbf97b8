import { CodedError } from '@rlsa/core';

/** Why the docs tables could not be generated or checked. */
export type DocsTableErrorCode =
  /** A `<!-- table:... -->` block is not closed, is nested, or names no source. */
  | 'malformed_marker'
  /** A block names a table kind the registry does not have. */
  | 'unknown_table'
  /** A block's source file is missing, is not JSON, or lacks a field the table reads. */
  | 'bad_source'
  | 'internal';

/** The one error of the docs-tables script: a user-facing line naming the file (exit 2), or a bug. */
export class DocsTableError extends CodedError<DocsTableErrorCode> {
  override readonly name = 'DocsTableError';
}
