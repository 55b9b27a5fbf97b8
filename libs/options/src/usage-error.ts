import { CodedError } from '@rlsa/core';

/** Why a command line, an RLSA_* variable or a settings file was refused. */
export type UsageErrorCode =
  /** A value is outside its option's domain (not an integer, not one of the choices, an unreadable file it names). */
  | 'invalid_value'
  /** A required option was given nowhere (flag, environment, settings file). */
  | 'missing_option'
  /** A settings file holds a key that is no option of the command. */
  | 'unknown_setting'
  /** A settings file cannot be read or is not a mapping. */
  | 'bad_settings_file'
  /** Options that exclude or need each other (--token with --token-file; --tls-cert without --tls-key). */
  | 'conflicting_options';

/** A mistake of the user's (a flag, a variable, a settings file): one line naming it, exit status 2. */
export class UsageError extends CodedError<UsageErrorCode> {
  override readonly name = 'UsageError';
  static override readonly defaultCode: UsageErrorCode = 'invalid_value';
}
