import type { Logger } from 'pino';

/** The message of the JSON log line with which a started aggregator says where it listens. */
export const LISTENING_MESSAGE = 'aggregator listening';

/** Where a started aggregator listens: what its listening line carries besides the message. */
export interface ListeningAnnouncement {
  readonly host: string;
  /** The gRPC port (the one picked when started with --port 0). */
  readonly port: number;
  readonly metricsPort: number | null;
  readonly healthPort: number | null;
  /** The dashboard's port (`--http-port`), null when it is off. */
  readonly httpPort: number | null;
  readonly dataDir: string;
}

/**
 * Logs the listening line (pino JSON on stdout): processes that start an aggregator wait for it with
 * `parseListeningLine`. It also names the process (`pid`: where to send SIGHUP, e.g. when started
 * through `npx`, whose own pid is not the aggregator's).
 */
export function announceListening(logger: Logger, announcement: ListeningAnnouncement): void {
  logger.info({ ...announcement, pid: process.pid }, LISTENING_MESSAGE);
}

/** The announcement in one line of an aggregator's output, or undefined when the line is anything else. */
export function parseListeningLine(line: string): ListeningAnnouncement | undefined {
  if (!line.includes(LISTENING_MESSAGE)) return undefined;
  let parsed: Partial<Record<keyof ListeningAnnouncement | 'msg', unknown>>;
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    return undefined;
  }
  const { msg, host, port, metricsPort, healthPort, httpPort, dataDir } = parsed;
  const portOrNull = (value: unknown): value is number | null => value === null || (typeof value === 'number' && Number.isInteger(value) && value > 0);
  if (msg !== LISTENING_MESSAGE || typeof host !== 'string' || typeof dataDir !== 'string') return undefined;
  if (typeof port !== 'number' || !(port > 0) || !portOrNull(metricsPort) || !portOrNull(healthPort)) return undefined;
  const dashboardPort = httpPort ?? null;
  if (!portOrNull(dashboardPort)) return undefined;
  return { host, port, metricsPort, healthPort, httpPort: dashboardPort, dataDir };
}
