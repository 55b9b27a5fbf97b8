import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ChannelOptions } from '@grpc/grpc-js';
import { parentPort, workerData } from 'node:worker_threads';
import { guardHttp2Connections } from '../http2-guards.ts';
import type { Http2GuardLimits } from '../http2-guards.ts';
import { nameThisThread } from '../worker-thread.ts';
import { aggregatorHealthService, setServing } from './health-services.ts';

export interface HealthPortThreadData {
  address: string;
  channelOptions: ChannelOptions;
  guard: Http2GuardLimits;
  /** Incremented by the event loop every `beatMs`: a count that stops moving is a stalled event loop. */
  heartbeat: Int32Array;
  beatMs: number;
  /** How long the heartbeat may stand still before the port answers NOT_SERVING. */
  stallMs: number;
}

export type HealthPortRequest = { kind: 'serving'; serving: boolean } | { kind: 'stop' };
export type HealthPortReply =
  | { kind: 'listening'; port: number }
  | { kind: 'bind-failed'; message: string }
  | { kind: 'preface-timeout'; remote: string }
  | { kind: 'message-timeout'; path: string; receivedBytes: number }
  | { kind: 'stalled'; stalled: boolean }
  | { kind: 'stopped' };

const port = parentPort;
if (port === null) throw new Error('health-port-thread.ts runs in a worker thread');
const data = workerData as HealthPortThreadData;
nameThisThread('rlsa-health');

const health = aggregatorHealthService();
let serving = true;
let stalled = false;
const publish = (): void => setServing(health, serving && !stalled);

// The event loop's heartbeat: NOT_SERVING while it stands still longer than stallMs (a liveness
// probe must see a stuck aggregator), SERVING again when it moves.
let lastBeat = Atomics.load(data.heartbeat, 0);
let stillSince = performance.now();
const watch = setInterval(() => {
  const beat = Atomics.load(data.heartbeat, 0);
  const now = performance.now();
  if (beat !== lastBeat) {
    lastBeat = beat;
    stillSince = now;
  }
  const isStalled = now - stillSince > data.stallMs;
  if (isStalled !== stalled) {
    stalled = isStalled;
    publish();
    port.postMessage({ kind: 'stalled', stalled } satisfies HealthPortReply);
  }
}, data.beatMs);

const server = new Server(data.channelOptions);
health.addToServer(server);
server.bindAsync(data.address, ServerCredentials.createInsecure(), (error, bound) => {
  if (error !== null) {
    port.postMessage({ kind: 'bind-failed', message: error.message } satisfies HealthPortReply);
    return;
  }
  guardHttp2Connections(server, data.guard, {
    onPrefaceTimeout: (remote) => port.postMessage({ kind: 'preface-timeout', remote } satisfies HealthPortReply),
    onMessageTimeout: (path, receivedBytes) => port.postMessage({ kind: 'message-timeout', path, receivedBytes } satisfies HealthPortReply),
  });
  port.postMessage({ kind: 'listening', port: bound } satisfies HealthPortReply);
});

port.on('message', (message: HealthPortRequest) => {
  if (message.kind === 'serving') {
    serving = message.serving;
    publish();
    return;
  }
  clearInterval(watch);
  server.forceShutdown();
  port.postMessage({ kind: 'stopped' } satisfies HealthPortReply);
  port.close();
});
