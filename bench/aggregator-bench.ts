/**
 * Aggregator upload benchmark (not a test): `npm run bench:aggregator [-- --rows N --cols D --nodes K --chunk-rows R --durability normal|full --disjoint]`.
 *
 * 1. Starts `rlsa aggregator` as a child process on a fresh data dir and streams ROWS × COLS float32
 *    from NODES concurrent node streams (@rlsa/client, chunks of CHUNK_ROWS rows, acknowledgements
 *    after each SQLite commit). By default the nodes upload the same ROWS/NODES sample ids (each merged
 *    sample has NODES contributions); `--disjoint` gives each node its own ids.
 * 2. In the same run, the raw @grpc/grpc-js loopback baseline: a child process with a bare bidi
 *    service (no protobuf, no storage) receiving the same number of messages of the same byte size
 *    from NODES streams, acknowledging each one, with the same in-flight window and HTTP/2 windows;
 *    its client copies each message once into a buffer, reusing acknowledged ones, as @rlsa/client does.
 * Prints one JSON object: MB/s, rows/s, the ratio to raw gRPC (per round and of the mean times),
 * the CPU seconds each side spent during the upload (server event loop, all server threads, the
 * clients in this process), the aggregator's peak RSS (VmHWM) and the merged state's size, with
 * the targets (≥ 60 % of raw; peak RSS ≤ 2 × merged + 300 MB), and the load average.
 */
import { Metadata, Server, ServerCredentials, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import type { Client, ClientDuplexStream, ServerDuplexStream, ServiceDefinition } from '@grpc/grpc-js';
import { widenHttp2Windows } from '@rlsa/aggregator';
import { createAggregatorClient, encodeMatrix, sampleIdBytes, toSampleIds } from '@rlsa/client';
import type { UploadChunkInput } from '@rlsa/client';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    cols: { type: 'string', default: '1024' },
    nodes: { type: 'string', default: '4' },
    'chunk-rows': { type: 'string', default: '256' },
    'in-flight': { type: 'string', default: '8' },
    durability: { type: 'string', default: 'normal' },
    disjoint: { type: 'boolean', default: false },
    'raw-server': { type: 'boolean', default: false },
    'default-window': { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string', default: '1' },
  },
});

const ROWS = Number(args.rows);
const COLS = Number(args.cols);
const NODES = Number(args.nodes);
const CHUNK_ROWS = Number(args['chunk-rows']);
const IN_FLIGHT = Number(args['in-flight']);
const CLI = fileURLToPath(new URL('../apps/cli/bin/rlsa.mjs', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

const identity = (b: Buffer): Buffer => b;
const RAW_SERVICE: ServiceDefinition = {
  push: {
    path: '/bench.Raw/Push',
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

if (args['raw-server']) {
  // Child mode: the bare gRPC baseline server. Acknowledges every message with 8 bytes.
  const server = new Server({ 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
  server.addService(RAW_SERVICE, {
    push: (call: ServerDuplexStream<Buffer, Buffer>) => {
      let seq = 0;
      call.on('data', () => {
        const ack = Buffer.alloc(8);
        ack.writeUInt32LE(seq++, 0);
        if (!call.write(ack)) {
          call.pause();
          call.once('drain', () => call.resume());
        }
      });
      call.on('end', () => call.end());
    },
  });
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
    if (error !== null) throw error;
    // The same HTTP/2 windows as the aggregator, so that the baseline is grpc-js at its best.
    if (!args['default-window']) widenHttp2Windows(server);
    process.stdout.write(`${JSON.stringify({ msg: 'raw listening', port })}\n`);
  });
} else {
  await main();
}

interface Child {
  process: ChildProcess;
  port: number;
}

function startChild(command: string[], pattern: string, env: Record<string, string> = {}): Promise<Child> {
  const child = spawn(process.execPath, command, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (data: Buffer) => {
      out += data.toString('utf8');
      for (const line of out.split('\n')) {
        if (line.includes(pattern)) {
          child.stdout?.removeAllListeners('data');
          child.stdout?.resume();
          resolve({ process: child, port: (JSON.parse(line) as { port: number }).port });
          return;
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited with ${code} before "${pattern}":\n${out}`)));
  });
}

/** CPU seconds (user + system) of each thread of a process, by thread id (from /proc; empty where there is none). */
function threadCpuSeconds(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** CPU seconds spent between two threadCpuSeconds snapshots: the main thread and all threads. */
function cpuSpent(pid: number, before: Map<number, number>, after: Map<number, number>): { main: number; total: number } {
  let total = 0;
  for (const [tid, seconds] of after) total += seconds - (before.get(tid) ?? 0);
  return { main: (after.get(pid) ?? 0) - (before.get(pid) ?? 0), total };
}

function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match === null ? Number.NaN : Number(match[1]) * 1024;
}

/** A few distinct chunk payloads, reused (the data's values do not matter to the throughput). */
function payloads(count: number): Float32Array[] {
  const out: Float32Array[] = [];
  let state = 12345;
  for (let p = 0; p < count; p += 1) {
    const data = new Float32Array(CHUNK_ROWS * COLS);
    for (let i = 0; i < data.length; i += 1) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      data[i] = (state / 2 ** 32) * 2 - 1;
    }
    out.push(data);
  }
  return out;
}

function* nodeChunks(node: number, pool: Float32Array[]): Generator<UploadChunkInput> {
  const perNode = Math.ceil(ROWS / NODES);
  const firstRow = node * perNode;
  const rows = Math.min(perNode, ROWS - firstRow);
  const idBase = args.disjoint ? firstRow : 0;
  for (let start = 0, c = 0; start < rows; start += CHUNK_ROWS, c += 1) {
    const n = Math.min(CHUNK_ROWS, rows - start);
    const sampleIds = new Uint32Array(n);
    for (let i = 0; i < n; i += 1) sampleIds[i] = idBase + start + i;
    const data = (pool[(c + node) % pool.length] as Float32Array).subarray(0, n * COLS);
    yield { sampleIds, values: { rows: n, cols: COLS, data } };
  }
}

async function runAggregator(pool: Float32Array[]): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'rlsa-bench-'));
  const runFile = join(dir, 'run.yaml');
  writeFileSync(runFile, `runId: bench\ndataset: synthetic\nanchorIds: [${Array.from({ length: COLS }, (_, i) => 10_000_000 + i).join(', ')}]\nanchorFingerprint: bench\n`);
  const aggregator = await startChild(
    // RLSA_BENCH_PROFILE_DIR: write a V8 CPU profile of the aggregator there.
    [...(process.env['RLSA_BENCH_PROFILE_DIR'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env['RLSA_BENCH_PROFILE_DIR']}`]), CLI, 'aggregator', '--data-dir', join(dir, 'data'), '--port', '0', '--run-file', runFile, '--durability', String(args.durability), '--max-receive-mb', '64'],
    '"msg":"aggregator listening"',
  );
  const pid = aggregator.process.pid as number;
  const rssBefore = peakRssBytes(pid);
  const address = `127.0.0.1:${aggregator.port}`;
  try {
    const clients = Array.from({ length: NODES }, () => createAggregatorClient({ address, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }));
    await Promise.all(
      clients.map((client, k) =>
        client.join({ runId: 'bench', nodeId: `node-${k}`, role: 'trainer', model: { architecture: 'bench', embeddingWidth: COLS }, anchorFingerprint: 'bench', relativeWidth: COLS }),
      ),
    );
    const cpuBefore = threadCpuSeconds(pid);
    const clientCpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const results = await Promise.all(
      clients.map((client, k) => client.upload({ runId: 'bench', nodeId: `node-${k}`, chunks: nodeChunks(k, pool), maxInFlight: IN_FLIGHT })),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuAfter = threadCpuSeconds(pid);
    const cpu = cpuSpent(pid, cpuBefore, cpuAfter);
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const rows = results.reduce((sum, r) => sum + r.rowsStored, 0);
    const status = await clients[0]?.getRun('bench');
    for (const client of clients) client.close();
    const peak = peakRssBytes(pid);
    const mergedSamples = status?.mergedSamples ?? 0;
    // The merged state: float64 sums plus count, label and id per sample (MergedSums), in 1,024-row slabs.
    const mergedStateBytes = Math.ceil(mergedSamples / 1024) * 1024 * (COLS * 8 + 12);
    return {
      seconds,
      rows,
      mergedSamples,
      mergedStateBytes,
      peakRssBytes: peak,
      startRssBytes: rssBefore,
      serverCpu: cpu,
      clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
    };
  } finally {
    aggregator.process.kill('SIGTERM');
    await new Promise((resolve) => aggregator.process.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RawRound {
  seconds: number;
  serverCpu: { main: number; total: number };
  clientCpuSeconds: number;
}

async function runRaw(messageBytes: number[]): Promise<RawRound> {
  const raw = await startChild(['--import', 'tsx', SELF, '--raw-server', ...(args['default-window'] ? ['--default-window'] : [])], '"msg":"raw listening"');
  const pid = raw.process.pid as number;
  try {
    const Ctor = makeGenericClientConstructor(RAW_SERVICE, 'Raw');
    const clients = Array.from({ length: NODES }, () => new Ctor(`127.0.0.1:${raw.port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as Client & Record<string, (m: Metadata) => ClientDuplexStream<Buffer, Buffer>>);
    const perNode = Math.ceil(messageBytes.length / NODES);
    const buffers = new Map<number, Buffer>();
    const bufferOf = (size: number): Buffer => {
      let b = buffers.get(size);
      if (b === undefined) {
        b = Buffer.alloc(size, 7);
        buffers.set(size, b);
      }
      return b;
    };
    const cpuBefore = threadCpuSeconds(pid);
    const clientCpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    await Promise.all(
      clients.map(
        (client, k) =>
          new Promise<void>((resolve, reject) => {
            const sizes = messageBytes.slice(k * perNode, (k + 1) * perNode);
            const call = (client['push'] as (m: Metadata) => ClientDuplexStream<Buffer, Buffer>)(new Metadata());
            let sent = 0;
            let acked = 0;
            let waitingDrain = false;
            // As the real client does: one copy per message, into the buffer of an acknowledged message when there is one.
            const unacknowledged: Buffer[] = [];
            const spare: Buffer[] = [];
            const pump = (): void => {
              while (!waitingDrain && sent < sizes.length && sent - acked < IN_FLIGHT) {
                const size = sizes[sent] as number;
                const reuse = spare.pop();
                const message = reuse !== undefined && reuse.byteLength >= size ? reuse.subarray(0, size) : Buffer.allocUnsafe(size);
                bufferOf(size).copy(message);
                unacknowledged.push(reuse !== undefined && message.buffer === reuse.buffer ? reuse : message);
                sent += 1;
                if (!call.write(message)) waitingDrain = true;
              }
              if (sent === sizes.length && acked === sizes.length) call.end();
            };
            call.on('data', () => {
              acked += 1;
              const done = unacknowledged.shift();
              if (done !== undefined && spare.length < IN_FLIGHT) spare.push(done);
              pump();
            });
            call.on('drain', () => {
              waitingDrain = false;
              pump();
            });
            call.on('error', reject);
            call.on('status', () => resolve());
            pump();
          }),
      ),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const serverCpu = cpuSpent(pid, cpuBefore, threadCpuSeconds(pid));
    const clientCpu = process.cpuUsage(clientCpuBefore);
    for (const client of clients) client.close();
    return { seconds, serverCpu, clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6 };
  } finally {
    raw.process.kill('SIGTERM');
    await new Promise((resolve) => raw.process.once('exit', resolve));
  }
}

async function main(): Promise<void> {
  const pool = payloads(8);
  // Byte size of each UploadChunk message on the wire: values + ids (8 bytes each) + framing (measured once).
  const { create, toBinary } = await import('@bufbuild/protobuf');
  const { UploadChunkSchema, SpaceKind } = await import('@rlsa/proto');
  const messageBytes: number[] = [];
  for (let k = 0; k < NODES; k += 1) {
    for (const chunk of nodeChunks(k, pool)) {
      messageBytes.push(
        toBinary(
          UploadChunkSchema,
          create(UploadChunkSchema, {
            runId: 'bench',
            nodeId: `node-${k}`,
            space: SpaceKind.RELATIVE,
            seq: 1000n,
            sampleIds: sampleIdBytes(toSampleIds(chunk.sampleIds)),
            values: encodeMatrix(chunk.values),
          }),
        ).byteLength,
      );
    }
  }
  const wireBytes = messageBytes.reduce((a, b) => a + b, 0);
  const valueBytes = ROWS * COLS * 4;

  if (args.only === 'raw') {
    const { seconds } = await runRaw(messageBytes);
    process.stdout.write(`${JSON.stringify({ rawGrpc: { seconds, MBps: valueBytes / 1e6 / seconds } })}\n`);
    return;
  }
  // Rounds alternate raw gRPC and the aggregator, so that both see the same (shared, noisy) machine.
  const rounds: { rawSeconds: number; raw: RawRound; agg: Record<string, unknown> }[] = [];
  for (let round = 0; round < Number(args.rounds); round += 1) {
    const rawRound = await runRaw(messageBytes);
    const aggRound = await runAggregator(pool);
    rounds.push({ rawSeconds: rawRound.seconds, raw: rawRound, agg: aggRound });
  }
  const mean = (values: number[]): number => Number((values.reduce((a, b) => a + b, 0) / values.length).toFixed(2));
  const rawSeconds = rounds.reduce((sum, r) => sum + r.rawSeconds, 0) / rounds.length;
  const aggSeconds = rounds.reduce((sum, r) => sum + (r.agg['seconds'] as number), 0) / rounds.length;
  const agg = rounds[rounds.length - 1]?.agg as Record<string, unknown>;
  const mb = valueBytes / 1e6;
  const mergedStateBytes = agg['mergedStateBytes'] as number;
  const peak = Math.max(...rounds.map((r) => r.agg['peakRssBytes'] as number));
  const rssTarget = 2 * mergedStateBytes + 300e6;
  const result = {
    benchmark: 'aggregator-upload',
    rows: ROWS,
    cols: COLS,
    nodes: NODES,
    chunkRows: CHUNK_ROWS,
    inFlight: IN_FLIGHT,
    durability: args.durability,
    rounds: rounds.map((r) => ({
      rawSeconds: Number(r.rawSeconds.toFixed(2)),
      aggregatorSeconds: Number((r.agg['seconds'] as number).toFixed(2)),
      ratio: Number((r.rawSeconds / (r.agg['seconds'] as number)).toFixed(3)),
    })),
    sampleIds: args.disjoint ? 'disjoint per node' : `shared: every node uploads the same ${Math.ceil(ROWS / NODES)} ids`,
    valueMB: Number(mb.toFixed(1)),
    wireMB: Number((wireBytes / 1e6).toFixed(1)),
    aggregator: {
      seconds: Number(aggSeconds.toFixed(2)),
      MBps: Number((mb / aggSeconds).toFixed(1)),
      rowsPerSecond: Math.round(ROWS / aggSeconds),
      rowsStored: agg['rows'],
      mergedSamples: agg['mergedSamples'],
      peakRssMB: Number((peak / 1e6).toFixed(1)),
      startRssMB: Number(((agg['startRssBytes'] as number) / 1e6).toFixed(1)),
      mergedStateMB: Number((mergedStateBytes / 1e6).toFixed(1)),
      // CPU seconds during the upload (mean per round): the aggregator's event loop, all its threads, and the uploading clients.
      cpuSeconds: {
        eventLoop: mean(rounds.map((r) => (r.agg['serverCpu'] as { main: number }).main)),
        allThreads: mean(rounds.map((r) => (r.agg['serverCpu'] as { total: number }).total)),
        clients: mean(rounds.map((r) => r.agg['clientCpuSeconds'] as number)),
      },
    },
    rawGrpc: {
      seconds: Number(rawSeconds.toFixed(2)),
      MBps: Number((mb / rawSeconds).toFixed(1)),
      rowsPerSecond: Math.round(ROWS / rawSeconds),
      cpuSeconds: {
        eventLoop: mean(rounds.map((r) => r.raw.serverCpu.main)),
        allThreads: mean(rounds.map((r) => r.raw.serverCpu.total)),
        clients: mean(rounds.map((r) => r.raw.clientCpuSeconds)),
      },
    },
    ratioToRawGrpc: Number((rawSeconds / aggSeconds).toFixed(3)),
    targets: {
      throughputRatio: { target: 0.6, met: rawSeconds / aggSeconds >= 0.6 },
      peakRss: { targetMB: Number((rssTarget / 1e6).toFixed(1)), met: peak <= rssTarget },
    },
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
    note: 'loopback on a shared 2-core machine; other processes compete for CPU, so absolute numbers are noisy',
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
