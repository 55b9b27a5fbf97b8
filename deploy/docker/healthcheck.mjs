#!/usr/bin/env node
// Container health check (Docker HEALTHCHECK), kept small: plain Node plus @grpc/grpc-js, no tsx start-up.
//
//   node healthcheck.mjs aggregator   asks grpc.health.v1.Health/Check on 127.0.0.1:$RLSA_HEALTH_PORT
//                                     (the aggregator's plaintext, health-only port) and succeeds on SERVING.
//   node healthcheck.mjs trainer      succeeds when the aggregator ($RLSA_AGGREGATOR, host:port) accepts a
//                                     TCP connection: a node that cannot reach it is waiting, not working.
//
// Exit 0 = healthy, 1 = unhealthy (what Docker expects). The message on stdout lands in `docker inspect`.
import { connect } from 'node:net';
import grpc from '@grpc/grpc-js';

const TIMEOUT_MS = Number(process.env.HEALTHCHECK_TIMEOUT_MS ?? 4000);
const mode = process.argv[2] ?? 'aggregator';

function done(healthy, message) {
  process.stdout.write(`${message}\n`);
  process.exit(healthy ? 0 : 1);
}

/** grpc.health.v1.HealthCheckResponse.status is field 1 (varint): 1 = SERVING. An empty message means 0 = UNKNOWN. */
function decodeStatus(bytes) {
  return bytes.length >= 2 && bytes[0] === 0x08 ? bytes[1] : 0;
}

function checkAggregator() {
  const port = process.env.RLSA_HEALTH_PORT;
  if (!port || port === '0') done(false, 'RLSA_HEALTH_PORT is not set: the aggregator has no plaintext health port to ask');
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  client.makeUnaryRequest(
    '/grpc.health.v1.Health/Check',
    () => Buffer.alloc(0), // HealthCheckRequest{service: ""}: the server as a whole
    (bytes) => bytes,
    {},
    new grpc.Metadata(),
    { deadline: Date.now() + TIMEOUT_MS },
    (error, response) => {
      client.close();
      if (error) done(false, `health check failed: ${error.code} ${error.details}`);
      const status = decodeStatus(response);
      done(status === 1, status === 1 ? 'SERVING' : `not serving (status ${status})`);
    },
  );
}

function checkTrainer() {
  const target = process.env.RLSA_AGGREGATOR ?? '';
  const colon = target.lastIndexOf(':');
  if (colon <= 0) done(false, 'RLSA_AGGREGATOR (host:port) is not set');
  const host = target.slice(0, colon).replace(/^\[|\]$/g, '');
  const socket = connect({ host, port: Number(target.slice(colon + 1)), timeout: TIMEOUT_MS });
  socket.on('connect', () => {
    socket.destroy();
    done(true, `aggregator ${target} reachable`);
  });
  socket.on('timeout', () => done(false, `aggregator ${target}: timeout`));
  socket.on('error', (error) => done(false, `aggregator ${target}: ${error.message}`));
}

if (mode === 'aggregator') checkAggregator();
else if (mode === 'trainer') checkTrainer();
else done(false, `unknown mode ${mode}: use aggregator or trainer`);
