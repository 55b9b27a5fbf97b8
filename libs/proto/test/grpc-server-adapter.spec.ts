import { create } from '@bufbuild/protobuf';
import { Metadata, Server, ServerCredentials, credentials, makeGenericClientConstructor, status } from '@grpc/grpc-js';
import type { Client, ClientDuplexStream, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  AdminService,
  AggregatorService,
  GetRunRequestSchema,
  JoinResponseSchema,
  ListRunsResponseSchema,
  MergedChunkSchema,
  RunConfigSchema,
  RunStatusSchema,
  UploadAckSchema,
  UploadAnchorSetRequestSchema,
  UploadAnchorSetResponseSchema,
  addServiceToServer,
  createServiceClient,
  grpcServiceDefinition,
} from '../src/index.ts';
import type { GetRunRequest, HandlerContext, MergedChunk, RunStatus, ServiceEdge, ServiceImpl, UploadAck, UploadChunk } from '../src/index.ts';

class Refused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const unimplemented = (): never => {
  throw new Refused(status.UNIMPLEMENTED, 'not in this test');
};

describe('ServiceImpl (type level)', () => {
  it('derives each handler from the descriptor: request, response and stream shapes', () => {
    type Admin = ServiceImpl<typeof AdminService, string>;
    expectTypeOf<Parameters<Admin['getRun']>[0]>().toEqualTypeOf<GetRunRequest>();
    expectTypeOf<Parameters<Admin['getRun']>[1]>().toEqualTypeOf<HandlerContext<string>>();
    expectTypeOf<ReturnType<Admin['getRun']>>().toEqualTypeOf<Promise<RunStatus>>();
    expectTypeOf<Parameters<ServiceImpl<typeof AggregatorService, string>['upload']>[0]>().toEqualTypeOf<AsyncIterable<UploadChunk>>();
    expectTypeOf<ReturnType<ServiceImpl<typeof AggregatorService, string>['readMerged']>>().toEqualTypeOf<AsyncIterable<MergedChunk>>();
    const wrongResponse: Admin = {
      // @ts-expect-error a JoinResponse is not the RunStatus GetRun answers with
      getRun: async () => create(JoinResponseSchema, {}),
      createRun: async () => create(RunStatusSchema, {}),
      listRuns: async () => create(ListRunsResponseSchema, {}),
      closeRun: async () => create(RunStatusSchema, {}),
      deleteRun: unimplemented,
      uploadAnchorSet: unimplemented,
    };
    // @ts-expect-error a unary handler does not stream
    const streaming: Admin['getRun'] = async function* () {
      yield create(RunStatusSchema, {});
    };
    // @ts-expect-error every method of the service needs its handler
    const missing: Admin = { getRun: async () => create(RunStatusSchema, {}) };
    expect([wrongResponse, streaming, missing]).toHaveLength(3);
  });
});

describe('addServiceToServer on a real grpc-js server', () => {
  const server = new Server();
  let address = '';
  const seen: { principal: string; aborted: boolean }[] = [];
  const edge: ServiceEdge<string> = {
    authenticate: (metadata) => {
      const token = metadata.get('token')[0];
      if (token === undefined) throw new Refused(status.UNAUTHENTICATED, 'no token');
      return String(token);
    },
    toStatus: (error) => (error instanceof Refused ? { code: error.code, details: error.message } : { code: status.INTERNAL, details: String(error) }),
    malformed: (detail) => new Refused(status.INVALID_ARGUMENT, detail),
  };
  const admin: ServiceImpl<typeof AdminService, string> = {
    getRun: async (request, context: HandlerContext<string>) => {
      seen.push({ principal: context.principal, aborted: context.signal.aborted });
      if (request.runId === 'missing') throw new Refused(status.NOT_FOUND, `run ${request.runId} does not exist`);
      return create(RunStatusSchema, { config: create(RunConfigSchema, { runId: request.runId }) });
    },
    createRun: unimplemented,
    listRuns: unimplemented,
    closeRun: unimplemented,
    deleteRun: unimplemented,
    // Counts the bytes of the chunks in order; a fingerprint 'known' is answered at once, before the rest is read.
    async uploadAnchorSet(requests, context) {
      let bytes = 0;
      let fingerprint = '';
      for await (const request of requests) {
        if (request.fingerprint !== '') fingerprint = request.fingerprint;
        if (fingerprint === 'known') return create(UploadAnchorSetResponseSchema, { fingerprint, created: false });
        if (request.chunk !== undefined && Number(request.chunk.offset) !== bytes) throw new Refused(status.INVALID_ARGUMENT, `offset ${request.chunk.offset}`);
        bytes += request.chunk?.data.length ?? 0;
      }
      seen.push({ principal: context.principal, aborted: context.signal.aborted });
      return create(UploadAnchorSetResponseSchema, { fingerprint: `${fingerprint}:${bytes}`, created: true });
    },
  };
  const aggregator: ServiceImpl<typeof AggregatorService, string> = {
    join: unimplemented,
    finishUpload: unimplemented,
    evaluate: unimplemented,
    nearest: unimplemented,
    readNodeSpace: unimplemented,
    watchRun: unimplemented,
    fetchAnchorSet: unimplemented,
    async *readMerged(request) {
      for (const id of request.sampleIds) yield create(MergedChunkSchema, { sampleIds: new Uint8Array(BigUint64Array.of(id).buffer) });
    },
    // Acknowledges each chunk; a chunk with seq 3 is refused after the acknowledgements before it.
    async *upload(requests) {
      for await (const chunk of requests) {
        if (chunk.seq === 3n) throw new Refused(status.FAILED_PRECONDITION, 'seq 3 refused');
        yield create(UploadAckSchema, { seq: chunk.seq });
      }
    },
  };

  beforeAll(async () => {
    addServiceToServer(server, AdminService, admin, edge);
    addServiceToServer(server, AggregatorService, aggregator, edge);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))),
    );
    address = `127.0.0.1:${port}`;
  });
  afterAll(() => server.forceShutdown());

  const clientOf = (definition: ReturnType<typeof grpcServiceDefinition>) =>
    new (makeGenericClientConstructor(definition, 'Test'))(address, credentials.createInsecure()) as Client & Record<string, (...args: unknown[]) => unknown>;
  const withToken = (): Metadata => {
    const metadata = new Metadata();
    metadata.set('token', 'node-7');
    return metadata;
  };
  const unary = (client: Record<string, (...args: unknown[]) => unknown>, request: unknown, metadata: Metadata) =>
    new Promise<{ error: ServiceError | null; value: unknown }>((resolve) => {
      client['getRun']?.(request, metadata, (error: ServiceError | null, value: unknown) => resolve({ error, value }));
    });

  it('unary: the handler gets the typed request and the edge principal; a thrown error becomes the edge status', async () => {
    const client = clientOf(grpcServiceDefinition(AdminService));
    const ok = await unary(client, create(GetRunRequestSchema, { runId: 'r1' }), withToken());
    expect(ok.error).toBeNull();
    expect((ok.value as RunStatus).config?.runId).toBe('r1');
    expect(seen.at(-1)).toEqual({ principal: 'node-7', aborted: false });
    const refused = await unary(client, create(GetRunRequestSchema, { runId: 'missing' }), withToken());
    expect({ code: refused.error?.code, details: refused.error?.details }).toEqual({ code: status.NOT_FOUND, details: 'run missing does not exist' });
    client.close();
  });

  it('refuses before the handler runs when authentication fails, and hands malformed bytes to the edge', async () => {
    const calls = seen.length;
    const client = clientOf(grpcServiceDefinition(AdminService));
    const anonymous = await unary(client, create(GetRunRequestSchema, { runId: 'r1' }), new Metadata());
    expect(anonymous.error?.code).toBe(status.UNAUTHENTICATED);
    expect(seen.length).toBe(calls);
    client.close();
    const raw = grpcServiceDefinition(AdminService);
    const getRun = raw['getRun'];
    if (getRun === undefined) throw new Error('no getRun');
    const rawClient = clientOf({ getRun: { ...getRun, requestSerialize: (bytes: unknown) => bytes as Buffer } });
    const malformed = await unary(rawClient, Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01]), withToken());
    expect(malformed.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(malformed.error?.details).toMatch(/^malformed request message: /);
    expect(seen.length).toBe(calls);
    rawClient.close();
  });

  it('server streaming: the responses in order, then OK', async () => {
    const client = clientOf(grpcServiceDefinition(AggregatorService));
    const stream = client['readMerged']?.({ sampleIds: [5n, 3n, 2n ** 64n - 1n] }, withToken()) as ClientReadableStream<MergedChunk>;
    const ids: bigint[] = [];
    for await (const chunk of stream) ids.push(...new BigUint64Array(new Uint8Array((chunk as MergedChunk).sampleIds).buffer));
    expect(ids).toEqual([5n, 3n, 2n ** 64n - 1n]);
    client.close();
  });

  it('client streaming (typed client): the requests in order, one response; an answer before the requests end settles the call', async () => {
    const admin = createServiceClient(AdminService, address, credentials.createInsecure(), {});
    const setup = { metadata: withToken(), options: {} };
    const whole = admin.uploadAnchorSet(setup);
    for (let i = 0; i < 5; i += 1) {
      whole.requests.write(create(UploadAnchorSetRequestSchema, { fingerprint: i === 0 ? 'f' : '', chunk: { offset: BigInt(i * 3), data: new Uint8Array(3) } }));
    }
    whole.requests.end();
    expect((await whole.response).fingerprint).toBe('f:15');
    const early = admin.uploadAnchorSet({ metadata: withToken(), options: {} });
    early.requests.write(create(UploadAnchorSetRequestSchema, { fingerprint: 'known' }));
    // Not ended: the server answers after the first message.
    expect(await early.response).toMatchObject({ fingerprint: 'known', created: false });
    early.requests.end();
    const refused = admin.uploadAnchorSet({ metadata: withToken(), options: {} });
    refused.requests.write(create(UploadAnchorSetRequestSchema, { chunk: { offset: 7n, data: new Uint8Array(1) } }));
    refused.requests.end();
    await expect(refused.response).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: 'offset 7' });
    admin.grpc.close();
  });

  it('bidi: responses in order, and a refusal ends the call with its status after the responses before it', async () => {
    const client = clientOf(grpcServiceDefinition(AggregatorService));
    const call = client['upload']?.(withToken()) as ClientDuplexStream<unknown, UploadAck>;
    const acks: number[] = [];
    const ended = new Promise<ServiceError | null>((resolve) => {
      call.on('data', (ack: UploadAck) => acks.push(Number(ack.seq)));
      call.on('error', resolve);
      call.on('status', (s: { code: number }) => s.code === status.OK && resolve(null));
    });
    for (let seq = 0; seq < 6; seq += 1) call.write({ runId: 'r', seq: BigInt(seq) });
    call.end();
    const error = await ended;
    expect(acks).toEqual([0, 1, 2]);
    expect({ code: error?.code, details: error?.details }).toEqual({ code: status.FAILED_PRECONDITION, details: 'seq 3 refused' });
    client.close();
  });
});
