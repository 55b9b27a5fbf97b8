import { OpsError } from './ops-error.ts';

/**
 * Node ids, certificate names and token subjects: a letter or digit, then letters, digits,
 * dot, underscore or dash, at most 64 characters. They become file names and X.509 common
 * names, so nothing that could escape a directory or an openssl config line is accepted.
 */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Throws `invalid_argument` unless `name` is a safe node id / certificate name. */
export function assertSafeName(name: string, what: string): void {
  if (!NAME.test(name) || name.includes('..')) {
    throw new OpsError(
      'invalid_argument',
      `${what} "${name}" is not valid: use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
}
