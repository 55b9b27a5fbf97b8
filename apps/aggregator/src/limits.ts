/**
 * What one caller can make the aggregator spend, bounded: every limit of the service with its
 * default, declared once. The command line's options (settings.ts) set them; `startAggregator`
 * takes any subset (`AggregatorOptions.limits`, `.quotas`).
 */
export interface AggregatorLimits {
  /** Concurrent HTTP/2 streams (calls) per connection: SETTINGS_MAX_CONCURRENT_STREAMS (`grpc.max_concurrent_streams`). */
  maxStreamsPerConnection: number;
  /** Concurrent calls of one principal (token subject) over all its connections; RESOURCE_EXHAUSTED beyond. */
  maxCallsPerPrincipal: number;
  /** A request message must arrive whole within this many ms of its first byte; its stream is reset (RESOURCE_EXHAUSTED) otherwise. */
  messageTimeoutMs: number;
  /** A connection must finish its TLS handshake and HTTP/2 preface within this many ms; it is closed otherwise. */
  prefaceTimeoutMs: number;
  /** A connection with no call for this many ms is closed (`grpc.max_connection_idle_ms`; GOAWAY, clients reconnect). */
  idleConnectionMs: number;
  /** Threads running heavy reads (Evaluate, Nearest, node spaces, the merged order). */
  readThreads: number;
  /** Reads waiting for a thread, at most; RESOURCE_EXHAUSTED beyond. */
  readQueue: number;
  /** Open WatchRun calls, all runs; RESOURCE_EXHAUSTED beyond. */
  maxWatchers: number;
}

export const DEFAULT_LIMITS: Readonly<AggregatorLimits> = {
  maxStreamsPerConnection: 100,
  maxCallsPerPrincipal: 64,
  messageTimeoutMs: 60_000,
  prefaceTimeoutMs: 10_000,
  idleConnectionMs: 300_000,
  readThreads: 2,
  readQueue: 64,
  maxWatchers: 1_024,
};

/** The server pings a connection silent for this long, to find peers that vanished (`grpc.keepalive_time_ms`). */
export const KEEPALIVE_TIME_MS = 60_000;
/** ... and closes it when the ping is not answered within this (`grpc.keepalive_timeout_ms`). */
export const KEEPALIVE_TIMEOUT_MS = 20_000;

/**
 * The server's quotas: what a run's `RunQuotas` field means when it is 0. Samples bound memory (the
 * merged sums and each node's sample index); bytes bound disk (0: no byte quota, only the disk's
 * free space: a full disk answers UNAVAILABLE and recovers by itself).
 */
export interface ServerQuotas {
  /** Distinct samples of a run's merged space (its trainers' relative rows). */
  maxRunSamples: number;
  /** Distinct samples of one node in one space (0: the run's bound). */
  maxNodeSamples: number;
  /** Stored payload bytes of a run (0: none). */
  maxRunBytes: number;
  /** Stored payload bytes of one node (0: none). */
  maxNodeBytes: number;
}

export const DEFAULT_SERVER_QUOTAS: Readonly<ServerQuotas> = {
  maxRunSamples: 10_000_000,
  maxNodeSamples: 0,
  maxRunBytes: 0,
  maxNodeBytes: 0,
};
