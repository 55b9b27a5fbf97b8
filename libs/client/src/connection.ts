import { Metadata, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import type { CallOptions, ChannelCredentials, ChannelOptions, Client, ClientDuplexStream } from '@grpc/grpc-js';
import { RlsaError } from '@rlsa/core';
import { AdminService, AggregatorService, createServiceClient, grpcServiceDefinition } from '@rlsa/proto';
import type { CallSetup, ServiceClient, UploadAck } from '@rlsa/proto';

export interface ConnectionOptions {
  /** 'host:port' */
  address: string;
  /** Bearer token sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** TLS: `ca` to trust (default: system roots); `cert` + `key` for mTLS. Absent: plaintext. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Largest message the client accepts (default 64 MiB). */
  maxReceiveBytes?: number;
  /** Extra grpc-js channel options. */
  channelOptions?: ChannelOptions;
}

export interface CallSettings {
  /** Deadline in milliseconds from now. */
  timeoutMs?: number;
  /**
   * Wait for the connection (up to the deadline) instead of failing at once with UNAVAILABLE
   * while the aggregator is unreachable, e.g. restarting. Use with `timeoutMs`.
   */
  waitForReady?: boolean;
}

/** One channel to the aggregator with typed clients of both services and the upload's own. */
export interface Connection {
  readonly aggregator: ServiceClient<typeof AggregatorService>;
  readonly admin: ServiceClient<typeof AdminService>;
  /** Opens an Upload stream that takes serialized UploadChunk messages (each encoded once, kept for a resend). */
  openUpload(): ClientDuplexStream<Buffer, UploadAck>;
  /** Resolves when the channel is connected or `deadlineMs` (epoch ms) passed. */
  waitReady(deadlineMs: number): Promise<void>;
  /** The metadata and options of one call. */
  setup(settings?: CallSettings): CallSetup;
  close(): void;
}

/** Upload alone, taking pre-serialized chunks. */
const UploadClientCtor = (() => {
  const upload = grpcServiceDefinition(AggregatorService)['upload'];
  if (upload === undefined) throw new Error('AggregatorService has no Upload method');
  return makeGenericClientConstructor({ upload: { ...upload, requestSerialize: (bytes: Buffer) => bytes } }, 'AggregatorService');
})();

export function openConnection(options: ConnectionOptions): Connection {
  const channelCredentials = channelCredentialsFor(options.tls);
  const channelOptions: ChannelOptions = {
    'grpc.max_receive_message_length': options.maxReceiveBytes ?? 64 * 1024 * 1024,
    'grpc.max_send_message_length': -1,
    // Reconnect within seconds after an aggregator restart (grpc-js backs off up to 120 s by default).
    'grpc.initial_reconnect_backoff_ms': 500,
    'grpc.max_reconnect_backoff_ms': 5000,
    ...options.channelOptions,
  };
  const aggregator = createServiceClient(AggregatorService, options.address, channelCredentials, channelOptions);
  // The admin and upload clients share the channel of the first one.
  const shared = { ...channelOptions, channelOverride: aggregator.grpc.getChannel() };
  const admin = createServiceClient(AdminService, options.address, channelCredentials, shared);
  const uploader = new UploadClientCtor(options.address, channelCredentials, shared) as unknown as Client & Record<'upload', (metadata: Metadata, options: CallOptions) => ClientDuplexStream<Buffer, UploadAck>>;
  const setup = (settings?: CallSettings): CallSetup => {
    const metadata = new Metadata(settings?.waitForReady === true ? { waitForReady: true } : {});
    if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
    return { metadata, options: settings?.timeoutMs === undefined ? {} : { deadline: Date.now() + settings.timeoutMs } };
  };
  return {
    aggregator,
    admin,
    openUpload: () => uploader.upload(setup().metadata, {}),
    waitReady: (deadlineMs) => new Promise((resolve) => aggregator.grpc.waitForReady(deadlineMs, () => resolve())),
    setup,
    close: () => {
      uploader.close();
      admin.grpc.close();
      aggregator.grpc.close();
    },
  };
}

function channelCredentialsFor(tls: ConnectionOptions['tls']): ChannelCredentials {
  if (tls === undefined) return credentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new RlsaError('invalid_argument', 'mTLS needs both a client certificate and its key');
  }
  return credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}
