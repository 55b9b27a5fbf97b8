/**
 * Everything a caller can make the dashboard spend, bounded. Tests shrink some of them through
 * `DashboardOptions.limits`.
 */
export interface DashboardLimits {
  /** Logged-in browsers kept; a login beyond it ends the oldest session. */
  readonly maxSessions: number;
  /** A session lasts this long after its login. */
  readonly sessionTtlMs: number;
  /** Live-update (server-sent events) streams open at once, over all runs; more get 503. */
  readonly maxEventStreams: number;
  /** A live-update stream sends at most one status per this interval (changes in between are coalesced). */
  readonly eventIntervalMs: number;
  /** A comment line this often keeps an idle stream open through proxies and shows a dead one. */
  readonly heartbeatMs: number;
  /** Largest request body (the login form) in bytes; larger: 413. */
  readonly maxBodyBytes: number;
  /** Largest request head in bytes (node's `maxHeaderSize`; larger: 431). */
  readonly maxHeaderBytes: number;
  /** The whole request (head and body) must arrive within this (node's `requestTimeout`: 408). */
  readonly requestTimeoutMs: number;
  /** The request head must arrive within this (node's `headersTimeout`). */
  readonly headersTimeoutMs: number;
  /** A connection with no traffic at all is closed after this (streams send heartbeats). */
  readonly idleTimeoutMs: number;
  /** Open connections at once; more are dropped (node's `maxConnections`). */
  readonly maxConnections: number;
  /** Merged samples drawn in the PCA at most (an evenly spaced subset of the sorted ids). */
  readonly pcaSampleRows: number;
  /** A run's CKA table or PCA is recomputed at most once per this interval (requests in between wait for it). */
  readonly recomputeIntervalMs: number;
}

export const DEFAULT_DASHBOARD_LIMITS: DashboardLimits = {
  maxSessions: 1_000,
  sessionTtlMs: 8 * 60 * 60 * 1000,
  maxEventStreams: 64,
  eventIntervalMs: 250,
  heartbeatMs: 15_000,
  maxBodyBytes: 4 * 1024,
  maxHeaderBytes: 16 * 1024,
  requestTimeoutMs: 10_000,
  headersTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  maxConnections: 256,
  pcaSampleRows: 1_000,
  recomputeIntervalMs: 2_000,
};
