import { quotePrefix } from '../client-text.ts';
import { AggregatorError } from '../errors.ts';

/** Characters of a run, node or task id, at most (ID_PATTERN's bound: 1 + 127). */
export const MAX_ID_CHARS = 128;

/** The id fields of request messages, as protobuf-es names them, with their wire names for messages. */
const ID_FIELDS = [
  ['runId', 'run_id'],
  ['nodeId', 'node_id'],
  ['taskId', 'task_id'],
] as const;

/**
 * Refuses a request whose run, node or task id (at the top of the message, or of its `config`,
 * as CreateRun's) is longer than MAX_ID_CHARS: INVALID_ARGUMENT quoting only a prefix of it,
 * before any handler echoes it in a message or a log line. Runs on every request message.
 */
export function checkRequestIds(request: unknown): void {
  if (typeof request !== 'object' || request === null) return;
  checkIds(request as Record<string, unknown>);
  const config = (request as { config?: unknown }).config;
  if (typeof config === 'object' && config !== null) checkIds(config as Record<string, unknown>);
}

function checkIds(message: Record<string, unknown>): void {
  for (const [field, wireName] of ID_FIELDS) {
    const value = message[field];
    if (typeof value === 'string' && value.length > MAX_ID_CHARS) {
      throw new AggregatorError('invalid_argument', `${wireName} of ${value.length} characters is longer than ${MAX_ID_CHARS}: ${quotePrefix(value)}`);
    }
  }
}
