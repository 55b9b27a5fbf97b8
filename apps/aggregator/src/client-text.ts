/** Characters of a client-given string that a message or a log line quotes, at most. */
export const QUOTED_PREFIX_CHARS = 64;

/** Characters of a status's details (and of a refusal's log line reason), at most. */
export const MAX_DETAIL_CHARS = 1_024;

/**
 * A client-given string as messages quote it: JSON-quoted, at most its first QUOTED_PREFIX_CHARS
 * characters, with its length when cut, so that a megabyte id costs a line, not a megabyte.
 */
export function quotePrefix(text: string, max = QUOTED_PREFIX_CHARS): string {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max))}… (${text.length} characters)`;
}

/** A message cut to MAX_DETAIL_CHARS: whatever a message quoted, a status or a log line stays short. */
export function boundedDetail(text: string, max = MAX_DETAIL_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
