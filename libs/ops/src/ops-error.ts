import { CodedError } from '@rlsa/core';

/**
 * Why an operator command (pki, tokens, backup) refused or failed. A closed set, so that the
 * CLI can turn every one into a one-line message and exit status 2.
 */
export type OpsErrorCode =
  /** A name, host, path or number is not acceptable (e.g. a node id with a slash). */
  | 'invalid_argument'
  /** The target exists and would be overwritten (a CA, a key, a token subject, a backup file). */
  | 'already_exists'
  /** A file the operation needs is absent (the CA for `pki issue`, the database for `backup`). */
  | 'not_found'
  /** A file exists but its content is not what it should be (tokens file shape, a corrupt backup). */
  | 'invalid_file'
  /** The openssl binary failed or is missing. */
  | 'openssl_failed'
  /** SQLite refused the online backup or the restore. */
  | 'backup_failed';

/** The one error type of @rlsa/ops: a code from a closed set, a message for operators (one line, exit 2), and a cause. */
export class OpsError extends CodedError<OpsErrorCode> {
  override readonly name = 'OpsError';
}
