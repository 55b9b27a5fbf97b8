import { create } from '@bufbuild/protobuf';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { DescService } from '@bufbuild/protobuf';
import type {
  Metadata,
  MethodDefinition,
  ServiceDefinition,
  ServerDuplexStream,
  ServerUnaryCall,
  ServerWritableStream,
  UntypedServiceImplementation,
  sendUnaryData,
} from '@grpc/grpc-js';
import { decodeMatrix } from '@rlsa/wire';
import {
  AdminService,
  AggregatorService,
  CkaScoreSchema,
  EvaluateResponseSchema,
  FinishUploadResponseSchema,
  JoinResponseSchema,
  ListRunsResponseSchema,
  NearestResponseSchema,
  NeighborSchema,
  SpaceKind,
  UploadAckSchema,
  grpcServiceDefinition,
} from '@rlsa/proto';
import type {
  CreateRunRequest,
  EvaluateRequest,
  FinishUploadRequest,
  GetRunRequest,
  JoinRequest,
  MergedChunk,
  NearestRequest,
  ReadMergedRequest,
  ReadNodeSpaceRequest,
  RunConfig,
  UploadAck,
  UploadChunk,
  WatchRunRequest,
} from '@rlsa/proto';
import { HealthImplementation } from 'grpc-health-check';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import { AggregatorState } from './aggregator-state.ts';
import type { ChunkOutcome } from './aggregator-state.ts';
import { ChunkWriter } from './storage/chunk-writer.ts';
import { Authenticator, authorizeNode, requireAdmin } from './auth.ts';
import type { Principal, TokenEntry } from './auth.ts';
import { CheckpointWorker } from './storage/checkpoint-worker.ts';
import { AggregatorError } from './errors.ts';
import { toAggregatorError, toGrpcStatus } from './grpc-status.ts';
import { widenHttp2Windows } from './http2-window.ts';
import { AggregatorMetrics } from './metrics.ts';
import { rlsaReflectionService } from './reflection.ts';
import { nativeLinalgStatus } from '@rlsa/linalg-native';
import { SlabPrefaulter } from './merge/slab-prefaulter.ts';
import { Storage } from './storage/storage.ts';
import type { Durability } from './storage/schema.ts';

/** Default largest request message: 64 MiB (a chunk of 16,384 rows × 1,024 float32 is 64 MiB). */
export const DEFAULT_MAX_RECEIVE_BYTES = 64 * 1024 * 1024;

export interface AggregatorOptions {
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. Default 50051. */
  port?: number;
  /** Prometheus /metrics HTTP port (0 = a free port); undefined = no metrics endpoint. */
  metricsPort?: number;
  /**
   * A second, plaintext gRPC port serving only grpc.health.v1 (0 = a free port), for probes that
   * cannot present a client certificate under mTLS; undefined = none. Health is on the main port too.
   */
  healthPort?: number;
  /** Tokens (from a tokens file); undefined = auth off (warned). */
  tokens?: readonly TokenEntry[];
  /** PEM server certificate and key; clientCa turns on mTLS (client certificates required). */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** Allows plaintext on a non-loopback address. */
  insecure?: boolean;
  /** Runs to create at start (run files); an existing identical run is kept. */
  runs?: readonly RunConfig[];
  /** grpc max receive message length in bytes; larger messages get RESOURCE_EXHAUSTED. */
  maxReceiveBytes?: number;
  durability?: Durability;
  logger: Logger;
}

export interface AggregatorHandle {
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number | undefined;
  readonly healthPort: number | undefined;
  readonly state: AggregatorState;
  readonly metrics: AggregatorMetrics;
  /** Replaces the tokens (e.g. the tokens file re-read on SIGHUP); calls in progress keep their principal. */
  reloadTokens(tokens: readonly TokenEntry[]): void;
  /** Drains: refuses new calls, ends streams (uploads get UNAVAILABLE after their committed chunks), closes storage. */
  shutdown(graceMs?: number): Promise<void>;
}

/** A request whose bytes did not parse as its protobuf message (kept so the handler can answer INVALID_ARGUMENT). */
interface MalformedRequest {
  readonly malformed: string;
}

/**
 * grpc-js answers INTERNAL when a request does not deserialize; a client's malformed bytes are
 * its own mistake, so the aggregator's definitions hand them to the handler, which answers
 * INVALID_ARGUMENT.
 */
function tolerantDefinition(service: DescService): ServiceDefinition {
  const definition = grpcServiceDefinition(service);
  const tolerant: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    tolerant[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error: unknown) {
          return { malformed: (error as Error).message } satisfies MalformedRequest;
        }
      },
    };
  }
  return tolerant;
}

/** Throws INVALID_ARGUMENT for a request that did not deserialize. */
function wellFormed<T>(request: T): T {
  const malformed = (request as Partial<MalformedRequest> | null)?.malformed;
  if (typeof malformed === 'string') throw new AggregatorError('invalid_argument', `malformed request message: ${malformed}`);
  return request;
}

/** Chunks of one upload stream waiting for their commit before the stream stops reading. */
const MAX_STREAM_IN_FLIGHT = 16;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Starts the aggregator: opens (or creates) `<dataDir>/aggregator.sqlite`, rebuilds the merged
 * state, serves AggregatorService, AdminService, grpc.health.v1 and server reflection, and
 * optionally Prometheus metrics.
 */
export async function startAggregator(options: AggregatorOptions): Promise<AggregatorHandle> {
  const log = options.logger;
  const host = options.host ?? '127.0.0.1';
  const maxReceiveBytes = options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES;
  if (options.tls === undefined && !isLoopback(host)) {
    if (options.insecure !== true) {
      throw new AggregatorError('failed_precondition', `refusing plaintext on non-loopback address ${host}: give --tls-cert/--tls-key, or --insecure`);
    }
    log.warn({ host }, 'serving plaintext on a non-loopback address (--insecure): tokens and data travel unencrypted');
  }
  const authenticator = new Authenticator(options.tokens);
  if (!authenticator.enabled) log.warn('no tokens file: authentication is off, every caller is admin (development only)');

  const storage = new Storage(options.dataDir, { durability: options.durability ?? 'normal' });
  const writer = new ChunkWriter(storage.path, options.durability ?? 'normal');
  // Fresh sums memory costs a page fault per 4 KB on first touch: a worker thread prepares it ahead
  // of need, in huge pages where the native addon can ask for them.
  const native = nativeLinalgStatus();
  const prefaulter = new SlabPrefaulter({ addonPath: native.available ? native.path : null });
  let state: AggregatorState;
  try {
    state = new AggregatorState(storage, log, writer, prefaulter);
    for (const run of options.runs ?? []) state.createRun(run);
  } catch (error: unknown) {
    await writer.stop();
    await prefaulter.stop();
    storage.close();
    throw error;
  }
  const metrics = new AggregatorMetrics();
  metrics.mergedBytes.set(state.mergedBytes());
  const checkpoints = new CheckpointWorker(storage.path, (event) => {
    if (event.kind === 'checkpoint') {
      metrics.checkpointSeconds.observe((event.ms ?? 0) / 1000);
      log.debug(event, 'WAL checkpoint');
    } else if (event.kind === 'error') log.warn({ reason: event.message }, 'WAL checkpoint failed (the automatic fallback remains)');
  });

  let draining = false;
  const uploads = new Set<ServerDuplexStream<UploadChunk, UploadAck>>();
  const watchers = new Set<ServerWritableStream<WatchRunRequest, unknown>>();

  const refuse = (method: string, error: unknown): ReturnType<typeof toGrpcStatus> => {
    const e = toAggregatorError(error);
    metrics.rejections.inc({ method, reason: e.code });
    if (e.code === 'internal') log.error({ err: e, method }, 'internal error');
    else log.debug({ method, code: e.code, reason: e.message }, 'request refused');
    return toGrpcStatus(e);
  };
  const authenticate = (metadata: Metadata): Principal => {
    if (draining) throw new AggregatorError('unavailable', 'aggregator shutting down');
    return authenticator.authenticate(metadata);
  };

  function unary<Req, Res>(method: string, handler: (request: Req, principal: Principal) => Res) {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      try {
        const principal = authenticate(call.metadata);
        callback(null, handler(wellFormed(call.request), principal));
      } catch (error: unknown) {
        callback(refuse(method, error));
      }
    };
  }

  /** Writes messages with backpressure: waits for 'drain' when write() returns false. */
  function serverStream<Req>(method: string, produce: (request: Req, principal: Principal) => Iterable<MergedChunk>) {
    return (call: ServerWritableStream<Req, MergedChunk>): void => {
      let cancelled = false;
      call.on('cancelled', () => {
        cancelled = true;
      });
      void (async () => {
        try {
          const principal = authenticate(call.metadata);
          const messages = produce(wellFormed(call.request), principal);
          for (const message of messages) {
            if (cancelled || draining) break;
            if (!call.write(message)) await new Promise<void>((resolve) => call.once('drain', resolve));
          }
          if (draining && !cancelled) call.emit('error', { code: status.UNAVAILABLE, details: 'aggregator shutting down' });
          else call.end();
        } catch (error: unknown) {
          call.emit('error', refuse(method, error));
        }
      })();
    };
  }

  const aggregatorImplementation: UntypedServiceImplementation = {
    join: unary<JoinRequest, unknown>('Join', (request, principal) => {
      authorizeNode(principal, request.nodeId);
      const joined = state.join(request);
      return create(JoinResponseSchema, {
        config: joined.config,
        lastRelativeSeq: BigInt(joined.lastRelativeSeq),
        lastAbsoluteSeq: BigInt(joined.lastAbsoluteSeq),
      });
    }),

    upload: (call: ServerDuplexStream<UploadChunk, UploadAck>): void => {
      let principal: Principal;
      try {
        principal = authenticate(call.metadata);
      } catch (error: unknown) {
        call.emit('error', refuse('Upload', error));
        return;
      }
      uploads.add(call);
      const connected = new Set<string>();
      let closed = false;
      let failed = false;
      const close = (): void => {
        if (closed) return;
        closed = true;
        uploads.delete(call);
        for (const key of connected) {
          const [runId, nodeId] = JSON.parse(key) as [string, string];
          state.connection(runId, nodeId, -1);
        }
        metrics.connectedNodes.set(state.connectedNodes());
      };
      // Chunks are validated on arrival, committed in order by the chunk writer, and acknowledged
      // in order; `tail` chains each stream's acknowledgements (and a refusal) behind the commits before it.
      let tail: Promise<void> = Promise.resolve();
      let inFlight = 0;
      const refuseStream = (grpcStatus: ReturnType<typeof toGrpcStatus>, about: { runId?: string; nodeId?: string; seq?: bigint }): void => {
        tail = tail.then(() => {
          if (closed) return;
          log.warn({ runId: about.runId, nodeId: about.nodeId, seq: String(about.seq ?? ''), code: status[grpcStatus.code], reason: grpcStatus.details }, 'chunk refused');
          close();
          call.emit('error', grpcStatus);
        });
      };
      call.on('data', (chunk: UploadChunk) => {
        if (closed || failed) return;
        // What the closures below keep of the chunk: not the message itself, whose payload views
        // the received megabyte (kept alive until the acknowledgement, those buffers outlived the
        // young generation and cost a full GC every few dozen chunks).
        const about = { runId: chunk.runId, nodeId: chunk.nodeId, seq: chunk.seq };
        let pending: Promise<ChunkOutcome>;
        try {
          if (draining) throw new AggregatorError('unavailable', 'aggregator shutting down');
          wellFormed(chunk);
          authorizeNode(principal, chunk.nodeId);
          pending = state.uploadChunk(chunk);
        } catch (error: unknown) {
          failed = true;
          refuseStream(refuse('Upload', error), about);
          return;
        }
        const key = JSON.stringify([chunk.runId, chunk.nodeId]);
        if (!connected.has(key)) {
          connected.add(key);
          state.connection(chunk.runId, chunk.nodeId, 1);
          metrics.connectedNodes.set(state.connectedNodes());
        }
        // At most MAX_STREAM_IN_FLIGHT chunks of one stream wait for their commit: then stop reading.
        inFlight += 1;
        if (inFlight >= MAX_STREAM_IN_FLIGHT) call.pause();
        const settled = pending.then(
          (outcome) => ({ outcome }),
          (error: unknown) => ({ error }),
        );
        tail = tail.then(async () => {
          const result = await settled;
          inFlight -= 1;
          if (inFlight < MAX_STREAM_IN_FLIGHT && !closed) call.resume();
          if (closed) return;
          if ('error' in result) {
            failed = true;
            const grpcStatus = refuse('Upload', result.error);
            log.warn({ runId: about.runId, nodeId: about.nodeId, seq: String(about.seq), code: status[grpcStatus.code], reason: grpcStatus.details }, 'chunk refused');
            close();
            call.emit('error', grpcStatus);
            return;
          }
          const outcome = result.outcome;
          const space = outcome.space === SpaceKind.RELATIVE ? 'relative' : 'absolute';
          metrics.chunks.inc({ space, duplicate: String(outcome.duplicate) });
          if (!outcome.duplicate) {
            metrics.rows.inc({ space }, outcome.rowsCounted);
            metrics.bytes.inc(outcome.payloadBytes);
            metrics.commitSeconds.observe(outcome.commitSeconds);
            metrics.mergedBytes.set(state.mergedBytes());
          }
          const ack = create(UploadAckSchema, {
            space: outcome.space,
            seq: BigInt(outcome.seq),
            rowsStored: BigInt(outcome.rowsStored),
            duplicate: outcome.duplicate,
          });
          // Backpressure towards the client: stop reading until the acks are flushed.
          if (!call.write(ack)) {
            call.pause();
            call.once('drain', () => {
              if (inFlight < MAX_STREAM_IN_FLIGHT) call.resume();
            });
          }
        });
      });
      call.on('end', () => {
        // Half-closed by the client: answer OK after the last acknowledgement.
        tail = tail.then(() => {
          if (closed) return;
          close();
          call.end();
        });
      });
      call.on('cancelled', close);
      call.on('error', close);
    },

    finishUpload: unary<FinishUploadRequest, unknown>('FinishUpload', (request, principal) => {
      authorizeNode(principal, request.nodeId);
      return create(FinishUploadResponseSchema, { node: state.finish(request.runId, request.nodeId) });
    }),

    readMerged: serverStream<ReadMergedRequest>('ReadMerged', (request) =>
      state.readMerged(request.runId, request.sampleIds, request.encoding, request.maxRowsPerChunk),
    ),

    readNodeSpace: serverStream<ReadNodeSpaceRequest>('ReadNodeSpace', (request, principal) => {
      requireAdmin(principal, 'ReadNodeSpace');
      return state.readNodeSpace(request.runId, request.nodeId, request.space, request.maxRowsPerChunk);
    }),

    evaluate: unary<EvaluateRequest, unknown>('Evaluate', (request) => {
      const result = state.evaluate(request.runId);
      return create(EvaluateResponseSchema, {
        referenceNodeId: result.referenceNodeId,
        scores: result.scores.map((s) => create(CkaScoreSchema, { subject: s.subject, n: BigInt(s.n), linearBiased: s.linearBiased, linearDebiased: s.linearDebiased })),
      });
    }),

    nearest: unary<NearestRequest, unknown>('Nearest', (request) => {
      let neighbors;
      if (request.query.case === 'sampleId') {
        neighbors = state.nearest(request.runId, { sampleId: request.query.value }, request.k);
      } else if (request.query.case === 'vector') {
        let vector;
        try {
          vector = decodeMatrix(request.query.value);
        } catch (error: unknown) {
          throw AggregatorError.from(error, 'invalid_argument');
        }
        neighbors = state.nearest(request.runId, { vector }, request.k);
      } else {
        throw new AggregatorError('invalid_argument', 'a Nearest query needs a sample_id or a vector');
      }
      return create(NearestResponseSchema, { neighbors: neighbors.map((n) => create(NeighborSchema, n)) });
    }),

    watchRun: (call: ServerWritableStream<WatchRunRequest, unknown>): void => {
      let unsubscribe: (() => void) | undefined;
      try {
        authenticate(call.metadata);
        const runId = wellFormed(call.request).runId;
        let waitingDrain = false;
        let dirty = false;
        const send = (): void => {
          if (waitingDrain) {
            dirty = true;
            return;
          }
          dirty = false;
          if (!call.write(state.status(runId))) {
            waitingDrain = true;
            call.once('drain', () => {
              waitingDrain = false;
              if (dirty) send();
            });
          }
        };
        send();
        unsubscribe = state.subscribe(runId, send);
        watchers.add(call);
        const stop = (): void => {
          unsubscribe?.();
          watchers.delete(call);
        };
        call.on('cancelled', stop);
        call.on('close', stop);
        call.on('finish', stop);
      } catch (error: unknown) {
        unsubscribe?.();
        call.emit('error', refuse('WatchRun', error));
      }
    },
  };

  const adminImplementation: UntypedServiceImplementation = {
    createRun: unary<CreateRunRequest, unknown>('CreateRun', (request, principal) => {
      requireAdmin(principal, 'CreateRun');
      if (request.config === undefined) throw new AggregatorError('invalid_argument', 'CreateRun needs a config');
      return state.createRun(request.config);
    }),
    getRun: unary<GetRunRequest, unknown>('GetRun', (request, principal) => {
      requireAdmin(principal, 'GetRun');
      return state.status(request.runId);
    }),
    listRuns: unary<object, unknown>('ListRuns', (_request, principal) => {
      requireAdmin(principal, 'ListRuns');
      return create(ListRunsResponseSchema, { runs: state.listRuns() });
    }),
  };

  const server = new Server({
    'grpc.max_receive_message_length': maxReceiveBytes,
    'grpc.max_send_message_length': -1,
  });
  server.addService(tolerantDefinition(AggregatorService), aggregatorImplementation);
  server.addService(tolerantDefinition(AdminService), adminImplementation);
  const health = new HealthImplementation({
    '': 'SERVING',
    'rlsa.v1.AggregatorService': 'SERVING',
    'rlsa.v1.AdminService': 'SERVING',
  });
  health.addToServer(server);
  rlsaReflectionService().addToServer(server);

  const credentials =
    options.tls === undefined
      ? ServerCredentials.createInsecure()
      : ServerCredentials.createSsl(
          options.tls.clientCa ?? null,
          [{ cert_chain: options.tls.cert, private_key: options.tls.key }],
          options.tls.clientCa !== undefined,
        );
  const bindHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${bindHost}:${options.port ?? 50051}`, credentials, (error, boundPort) => (error === null ? resolve(boundPort) : reject(error)));
    });
    if (!widenHttp2Windows(server)) log.debug('grpc-js internals changed: HTTP/2 windows stay at their defaults');
  } catch (error: unknown) {
    await checkpoints.stop();
    await writer.stop();
    await prefaulter.stop();
    storage.close();
    throw new AggregatorError('failed_precondition', `cannot listen on ${bindHost}:${options.port ?? 50051}: ${(error as Error).message}`, { cause: error });
  }

  let healthServer: Server | undefined;
  let healthPort: number | undefined;
  if (options.healthPort !== undefined) {
    healthServer = new Server();
    health.addToServer(healthServer);
    try {
      healthPort = await new Promise<number>((resolve, reject) => {
        (healthServer as Server).bindAsync(`${bindHost}:${options.healthPort}`, ServerCredentials.createInsecure(), (error, boundPort) =>
          error === null ? resolve(boundPort) : reject(error),
        );
      });
    } catch (error: unknown) {
      server.forceShutdown();
      await checkpoints.stop();
      await writer.stop();
      await prefaulter.stop();
      storage.close();
      throw new AggregatorError('failed_precondition', `cannot serve health on ${bindHost}:${options.healthPort}: ${(error as Error).message}`, { cause: error });
    }
  }

  let metricsServer: HttpServer | undefined;
  let metricsPort: number | undefined;
  if (options.metricsPort !== undefined) {
    try {
      const served = await metrics.serve(host, options.metricsPort);
      metricsServer = served.server;
      metricsPort = served.port;
    } catch (error: unknown) {
      server.forceShutdown();
      healthServer?.forceShutdown();
      await checkpoints.stop();
      await writer.stop();
      await prefaulter.stop();
      storage.close();
      throw new AggregatorError('failed_precondition', `cannot serve metrics on ${host}:${options.metricsPort}: ${(error as Error).message}`, { cause: error });
    }
  }

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (graceMs = 10_000): Promise<void> => {
    shutdownPromise ??= (async () => {
      draining = true;
      for (const service of ['', 'rlsa.v1.AggregatorService', 'rlsa.v1.AdminService']) health.setStatus(service, 'NOT_SERVING');
      // Chunks are committed synchronously in the 'data' handler, so every chunk that was
      // being processed is committed (and acknowledged) by now; the rest are refused.
      for (const call of uploads) call.emit('error', { code: status.UNAVAILABLE, details: 'aggregator shutting down; resume after the last acknowledged chunk' });
      for (const call of watchers) call.end();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      healthServer?.forceShutdown();
      if (metricsServer !== undefined) {
        metricsServer.closeAllConnections();
        await new Promise<void>((resolve) => (metricsServer as HttpServer).close(() => resolve()));
      }
      await checkpoints.stop();
      await writer.stop();
      await prefaulter.stop();
      storage.close();
      log.info('aggregator stopped');
    })();
    return shutdownPromise;
  };

  const reloadTokens = (tokens: readonly TokenEntry[]): void => {
    authenticator.replace(tokens);
    log.info({ tokens: tokens.length }, 'tokens reloaded');
  };

  return { host, port, metricsPort, healthPort, state, metrics, reloadTokens, shutdown };
}
