/**
 * Aggregator upload benchmark (not a test): `npm run bench:aggregator [-- --rows N --cols D --nodes K --chunk-rows R --durability normal|full --disjoint --rounds N --reference-rows N]`.
 *
 * 1. Starts `rlsa aggregator` as a child process on a fresh data dir and streams ROWS × COLS float32
 *    from NODES concurrent node streams (@rlsa/client, chunks of CHUNK_ROWS rows, acknowledgements
 *    after each SQLite commit). By default the nodes upload the same ROWS/NODES sample ids (each merged
 *    sample has NODES contributions); `--disjoint` gives each node its own ids.
 * 2. In the same run, the raw @grpc/grpc-js loopback baseline: a child process with a bare bidi
 *    service (no protobuf, no storage) receiving the same number of messages of the same byte size
 *    from NODES streams, acknowledging each one, with the same in-flight window and HTTP/2 windows;
 *    its client copies each message once into a buffer, reusing acknowledged ones, as @rlsa/client does.
 *    It serves grpc.health.v1 too, and two probers ask it during its upload, as two ask the
 *    aggregator during its own (below): both sides carry the same probing load.
 * 2b. After the upload, one ReadMerged of one sample: the merge trails the commits, so this first read
 *    waits until every acknowledged chunk is merged (`firstReadAfterUploadSeconds`); the peak RSS is
 *    read after it.
 * 3. While the aggregator idles for a second (the prober's floor), while it ingests, and then
 *    during an Evaluate (a reference node of `--reference-rows` rows, default 1,000, uploaded after
 *    the timed upload), a separate prober process calls grpc.health.v1 Check every 25 ms on the main
 *    port, and another on --health-port (served by a thread of its own): the latencies'
 *    p50/p99/max over the checks of all rounds, with the worst round's p99 (target: p99 < 100 ms).
 * Prints one JSON object: the machine (CPU model, cores, the SIMD the native addon runs), MB/s,
 * rows/s, the ratio to raw gRPC (per round and of the mean times), the CPU seconds each side spent
 * during the upload (server event loop, all server threads, the clients in this process) and the
 * same per MB of values, the health latencies, the aggregator's peak RSS (VmHWM) and the merged
 * state's size, with the targets (≥ 60 % of raw with the default durability, ≥ 30 % with
 * `--durability full`; peak RSS ≤ 2 × merged + 300 MB; health p99 < 100 ms), and the load average.
 */
import { Metadata, Server, ServerCredentials, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import type { Client, ClientDuplexStream, ServerDuplexStream, ServiceDefinition, ServiceError } from '@grpc/grpc-js';
import { STREAM_WINDOW_BYTES, widenHttp2Windows } from '@rlsa/aggregator';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import { createAggregatorClient, encodeMatrix, sampleIdBytes, toSampleIds } from '@rlsa/client';
import type { AggregatorClient, UploadChunkInput } from '@rlsa/client';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchMachine } from './machine.ts';

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
    'reference-rows': { type: 'string', default: '1000' },
    'health-probe': { type: 'string' },
  },
});

const ROWS = Number(args.rows);
const COLS = Number(args.cols);
const NODES = Number(args.nodes);
const CHUNK_ROWS = Number(args['chunk-rows']);
const IN_FLIGHT = Number(args['in-flight']);
const CLI = fileURLToPath(new URL('../apps/cli/bin/rlsa.mjs', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
/** Profiling or extra node flags for the aggregator: the aggregator's pid and the upload's window go to stderr, to cut profiles and per-thread samples to it. */
const DIAGNOSING = process.env['RLSA_BENCH_PROFILE_DIR'] !== undefined || process.env['RLSA_BENCH_NODE_FLAGS'] !== undefined;

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

if (args['health-probe'] !== undefined) {
  probeHealth(args['health-probe']);
} else if (args['raw-server']) {
  // Child mode: the bare gRPC baseline server. Acknowledges every message with 8 bytes.
  const server = new Server({ 'grpc.max_receive_message_length': 256 * 1024 * 1024 });
  // grpc.health.v1 too, so that the same probers can ask it during its upload as they ask the aggregator during its own.
  new HealthImplementation({ '': 'SERVING' }).addToServer(server);
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

/** Latencies of health checks, in ms: how many, the median, the 99th percentile and the largest. */
interface HealthLatency {
  checks: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Every check's latency (the prober's output; pooled over rounds by the summary, not printed). */
  samplesMs?: number[];
}

/**
 * Child mode: calls grpc.health.v1 Check on `address` every 25 ms (one at a time, deadline 10 s)
 * until SIGTERM, then prints the latencies. A process of its own, so that the clients' work in the
 * bench process does not count as the aggregator's latency.
 */
function probeHealth(address: string): void {
  const Ctor = makeGenericClientConstructor(healthService, 'Health');
  const client = new Ctor(address, credentials.createInsecure()) as Client & Record<string, (...a: unknown[]) => void>;
  const latencies: number[] = [];
  let failed = 0;
  let stopped = false;
  const check = (): void => {
    const started = process.hrtime.bigint();
    (client['check'] as (...a: unknown[]) => void)({ service: '' }, new Metadata(), { deadline: Date.now() + 10_000 }, (error: ServiceError | null) => {
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (error !== null) failed += 1;
      if (!stopped) setTimeout(check, 25);
    });
  };
  client.waitForReady(Date.now() + 10_000, () => {
    process.stdout.write(`${JSON.stringify({ msg: 'probing', port: 0 })}\n`);
    check();
  });
  process.on('SIGTERM', () => {
    stopped = true;
    process.stdout.write(`${JSON.stringify({ ...latencySummary(latencies, failed), samplesMs: latencies.map((ms) => Number(ms.toFixed(2))) })}\n`);
    process.exit(0);
  });
}

function latencySummary(latencies: number[], failed: number): HealthLatency {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number): number => Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN).toFixed(1));
  return { checks: sorted.length, failed, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: Number((sorted[sorted.length - 1] ?? Number.NaN).toFixed(1)) };
}

/** Starts a health prober on `address`; `stop` ends it and resolves with what it measured. */
async function startHealthProbe(address: string): Promise<{ stop: () => Promise<HealthLatency> }> {
  const prober = await startChild(['--import', 'tsx', SELF, '--health-probe', address], '"msg":"probing"');
  return {
    stop: () =>
      new Promise((resolve) => {
        let out = '';
        prober.process.stdout?.removeAllListeners('data');
        prober.process.stdout?.on('data', (data: Buffer) => {
          out += data.toString('utf8');
        });
        prober.process.once('exit', () => resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as HealthLatency));
        prober.process.kill('SIGTERM');
      }),
  };
}

interface Child {
  process: ChildProcess;
  port: number;
  /** The line that said the child is ready (the aggregator's names its health port). */
  ready: Record<string, unknown>;
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
          // With RLSA_BENCH_NODE_FLAGS (e.g. --trace-gc) the child's further output goes to stderr, else nowhere.
          if (process.env['RLSA_BENCH_NODE_FLAGS'] === undefined) child.stdout?.resume();
          else child.stdout?.pipe(process.stderr);
          const ready = JSON.parse(line) as Record<string, unknown>;
          resolve({ process: child, port: ready['port'] as number, ready });
          return;
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited with ${code} before "${pattern}":\n${out}`)));
  });
}

/** CPU seconds (user + system), minor page faults and name of each thread of a process, by thread id (from /proc; empty where there is none). */
function threadCpuSeconds(pid: number): Map<number, { name: string; seconds: number; faults: number }> {
  const out = new Map<number, { name: string; seconds: number; faults: number }>();
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
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(Number(tid), { name, seconds: (Number(fields[11]) + Number(fields[12])) / 100, faults: Number(fields[7]) });
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** CPU seconds of one side's server during the upload, by thread. */
interface ServerCpu {
  /** The main thread (the event loop). */
  main: number;
  total: number;
  /** The aggregator's chunk writer and slab prefaulter threads (0 for raw gRPC). */
  writer: number;
  prefaulter: number;
  /** By thread name (the main thread as `event loop`; Node's own threads, V8's GC and compiler helpers among them, share the name `node`). */
  byName: Record<string, number>;
  /** Minor page faults (first touches of fresh memory: 4 KB each, costly on a VM), on the main thread and in all. */
  mainFaults: number;
  faults: number;
}

/**
 * CPU seconds spent between two threadCpuSeconds snapshots: the main thread, all threads, the
 * aggregator's chunk writer and slab prefaulter threads (they name themselves `rlsa-writer` and
 * `rlsa-prefault`), and the sum per thread name.
 */
function cpuSpent(pid: number, before: Map<number, { seconds: number; faults: number }>, after: Map<number, { name: string; seconds: number; faults: number }>): ServerCpu {
  let total = 0;
  let faults = 0;
  const byName: Record<string, number> = {};
  for (const [tid, { name, seconds, faults: threadFaults }] of after) {
    const spent = seconds - (before.get(tid)?.seconds ?? 0);
    total += spent;
    faults += threadFaults - (before.get(tid)?.faults ?? 0);
    const key = tid === pid ? 'event loop' : name;
    byName[key] = (byName[key] ?? 0) + spent;
  }
  const main = (after.get(pid)?.seconds ?? 0) - (before.get(pid)?.seconds ?? 0);
  const mainFaults = (after.get(pid)?.faults ?? 0) - (before.get(pid)?.faults ?? 0);
  return { main, total, writer: byName['rlsa-writer'] ?? 0, prefaulter: byName['rlsa-prefault'] ?? 0, byName, mainFaults, faults };
}

/** RLSA_BENCH_NODE_FLAGS: node flags for both servers (the aggregator and the raw baseline), e.g. --trace-gc. */
function nodeFlags(): string[] {
  return (process.env['RLSA_BENCH_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');
}

/** `--cpu-prof` into RLSA_BENCH_PROFILE_DIR when it is set. */
function profileFlags(): string[] {
  const dir = process.env['RLSA_BENCH_PROFILE_DIR'];
  return dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
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
  yield* rowsChunks(args.disjoint ? firstRow : 0, Math.min(perNode, ROWS - firstRow), pool, node);
}

/** Chunks of `rows` rows with ids from `idBase`, values from the pool (rotated by `shift`). */
function* rowsChunks(idBase: number, rows: number, pool: Float32Array[], shift = 0): Generator<UploadChunkInput> {
  for (let start = 0, c = 0; start < rows; start += CHUNK_ROWS, c += 1) {
    const n = Math.min(CHUNK_ROWS, rows - start);
    const sampleIds = new Uint32Array(n);
    for (let i = 0; i < n; i += 1) sampleIds[i] = idBase + start + i;
    const data = (pool[(c + shift) % pool.length] as Float32Array).subarray(0, n * COLS);
    yield { sampleIds, values: { rows: n, cols: COLS, data } };
  }
}

async function runAggregator(pool: Float32Array[]): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'rlsa-bench-'));
  const runFile = join(dir, 'run.yaml');
  writeFileSync(runFile, `runId: bench\ndataset: synthetic\nanchorIds: [${Array.from({ length: COLS }, (_, i) => 10_000_000 + i).join(', ')}]\nanchorFingerprint: bench\n`);
  const aggregator = await startChild(
    // RLSA_BENCH_PROFILE_DIR: write a V8 CPU profile of the aggregator there; RLSA_BENCH_NODE_FLAGS: more node flags for it and the raw server (e.g. --trace-gc, printed on stderr).
    [...profileFlags(), ...nodeFlags(), CLI, 'aggregator', '--data-dir', join(dir, 'data'), '--port', '0', '--health-port', '0', '--run-file', runFile, '--durability', String(args.durability), '--max-receive-mb', '64'],
    '"msg":"aggregator listening"',
  );
  const pid = aggregator.process.pid as number;
  if (DIAGNOSING) process.stderr.write(`${JSON.stringify({ aggregatorPid: pid })}\n`);
  const rssBefore = peakRssBytes(pid);
  const address = `127.0.0.1:${aggregator.port}`;
  // The health-only port (what a Kubernetes probe asks), served by a thread of its own.
  const healthAddress = `127.0.0.1:${aggregator.ready['healthPort'] as number}`;
  try {
    const clients = Array.from({ length: NODES }, () => createAggregatorClient({ address, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }));
    await Promise.all(
      clients.map((client, k) =>
        client.join({ runId: 'bench', nodeId: `node-${k}`, role: 'trainer', model: { architecture: 'bench', embeddingWidth: COLS }, anchorFingerprint: 'bench', relativeWidth: COLS }),
      ),
    );
    // The prober's own floor: the aggregator idle for a second.
    const idleProbe = await startHealthProbe(address);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const healthIdle = await idleProbe.stop();
    const probe = await startHealthProbe(address);
    const portProbe = await startHealthProbe(healthAddress);
    const cpuBefore = threadCpuSeconds(pid);
    const clientCpuBefore = process.cpuUsage();
    const started = process.hrtime.bigint();
    const results = await Promise.all(
      clients.map((client, k) => client.upload({ runId: 'bench', nodeId: `node-${k}`, chunks: nodeChunks(k, pool), maxInFlight: IN_FLIGHT })),
    );
    const ended = process.hrtime.bigint();
    const seconds = Number(ended - started) / 1e9;
    const cpuAfter = threadCpuSeconds(pid);
    // The upload's window on the monotonic clock in µs (a CPU profile's timestamps), to cut the profile to it.
    if (DIAGNOSING) process.stderr.write(`${JSON.stringify({ profiledPid: pid, uploadFromUs: Number(started / 1000n), uploadToUs: Number(ended / 1000n), uploadEndedAtMs: Date.now(), seconds })}\n`);
    const healthDuringUpload = await probe.stop();
    const healthPortDuringUpload = await portProbe.stop();
    const cpu = cpuSpent(pid, cpuBefore, cpuAfter);
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const rows = results.reduce((sum, r) => sum + r.rowsStored, 0);
    // The merge trails the commits: the first read after the upload waits until every acknowledged
    // chunk is merged. Its time is the merge's lag; the peak RSS is taken after it (sums included).
    const readStarted = process.hrtime.bigint();
    await clients[0]?.readMerged('bench', { sampleIds: [0n] });
    const firstReadSeconds = Number((Number(process.hrtime.bigint() - readStarted) / 1e9).toFixed(3));
    const status = await clients[0]?.getRun('bench');
    const peak = peakRssBytes(pid);
    const evaluation = await evaluateWithHealthProbe(clients[0] as AggregatorClient, { address, healthAddress }, pool);
    for (const client of clients) client.close();
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
      healthIdle,
      healthDuringUpload,
      healthPortDuringUpload,
      firstReadSeconds,
      ...evaluation,
    };
  } finally {
    aggregator.process.kill('SIGTERM');
    await new Promise((resolve) => aggregator.process.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * After the timed upload: a reference node uploads `--reference-rows` rows (ids the trainers
 * share), then one Evaluate runs while the prober checks health. Returns the Evaluate's seconds
 * and the health latencies meanwhile.
 */
async function evaluateWithHealthProbe(
  client: AggregatorClient,
  { address, healthAddress }: { address: string; healthAddress: string },
  pool: Float32Array[],
): Promise<{ evaluateSeconds: number; healthDuringEvaluate: HealthLatency; healthPortDuringEvaluate: HealthLatency }> {
  const referenceRows = Math.min(Number(args['reference-rows']), Math.ceil(ROWS / NODES));
  await client.join({ runId: 'bench', nodeId: 'reference', role: 'reference', model: { architecture: 'bench', embeddingWidth: COLS }, anchorFingerprint: 'bench', relativeWidth: COLS });
  await client.upload({ runId: 'bench', nodeId: 'reference', chunks: rowsChunks(0, referenceRows, pool), maxInFlight: IN_FLIGHT });
  const probe = await startHealthProbe(address);
  const portProbe = await startHealthProbe(healthAddress);
  const started = process.hrtime.bigint();
  await client.evaluate('bench', { timeoutMs: 600_000 });
  const evaluateSeconds = Number((Number(process.hrtime.bigint() - started) / 1e9).toFixed(2));
  return { evaluateSeconds, healthDuringEvaluate: await probe.stop(), healthPortDuringEvaluate: await portProbe.stop() };
}

interface RawRound {
  seconds: number;
  serverCpu: ServerCpu;
  clientCpuSeconds: number;
  /** Health checks on the raw server during its upload (it serves grpc.health.v1 for the probers). */
  healthDuringUpload: HealthLatency;
}

async function runRaw(messageBytes: number[]): Promise<RawRound> {
  const raw = await startChild([...nodeFlags(), '--import', 'tsx', SELF, '--raw-server', ...(args['default-window'] ? ['--default-window'] : [])], '"msg":"raw listening"');
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
    // The same probing load as the aggregator's upload gets (its main port and its health port):
    // two probers, so that the ratio compares the servers, not the probing.
    const rawAddress = `127.0.0.1:${raw.port}`;
    const probes = [await startHealthProbe(rawAddress), await startHealthProbe(rawAddress)];
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
    const ended = process.hrtime.bigint();
    const seconds = Number(ended - started) / 1e9;
    const serverCpu = cpuSpent(pid, cpuBefore, threadCpuSeconds(pid));
    if (DIAGNOSING) process.stderr.write(`${JSON.stringify({ rawPid: pid, rawFromUs: Number(started / 1000n), rawToUs: Number(ended / 1000n) })}\n`);
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const [healthDuringUpload] = (await Promise.all(probes.map((probe) => probe.stop()))) as [HealthLatency, HealthLatency];
    for (const client of clients) client.close();
    return { seconds, serverCpu, clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6, healthDuringUpload };
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
  const rounds: Round[] = [];
  for (let round = 0; round < Number(args.rounds); round += 1) {
    const rawRound = await runRaw(messageBytes);
    const aggRound = await runAggregator(pool);
    rounds.push({ rawSeconds: rawRound.seconds, raw: rawRound, agg: aggRound });
  }
  process.stdout.write(`${JSON.stringify(summarize(rounds, valueBytes, wireBytes), null, 2)}\n`);
}

interface Round {
  rawSeconds: number;
  raw: RawRound;
  agg: Record<string, unknown>;
}

/**
 * Health latencies over rounds, pooled: the percentiles of every check of every round (5 rounds of
 * about 65 checks each make the p99 the 4th largest of ~325; a single round's p99 is its largest),
 * and the worst round's p99 beside them.
 */
function pooledHealth(latencies: HealthLatency[]): HealthLatency & { rounds: number; worstRoundP99Ms: number; over50Ms: number; over100Ms: number } {
  const samples = latencies.flatMap((h) => h.samplesMs ?? []);
  const failed = latencies.reduce((sum, h) => sum + h.failed, 0);
  return {
    ...latencySummary(samples, failed),
    rounds: latencies.length,
    worstRoundP99Ms: Math.max(...latencies.map((h) => h.p99Ms)),
    // How many checks took longer than half the target and than the target.
    over50Ms: samples.filter((ms) => ms > 50).length,
    over100Ms: samples.filter((ms) => ms > 100).length,
  };
}

/** The aggregator's health latencies under `key`, pooled over rounds. */
function aggregatorHealth(rounds: Round[], key: 'healthIdle' | 'healthDuringUpload' | 'healthDuringEvaluate' | 'healthPortDuringUpload' | 'healthPortDuringEvaluate'): ReturnType<typeof pooledHealth> {
  return pooledHealth(rounds.map((r) => r.agg[key] as HealthLatency));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The benchmark's JSON: per-round ratios, means, CPU seconds (total and per MB of values), health latencies, targets. */
function summarize(rounds: Round[], valueBytes: number, wireBytes: number): Record<string, unknown> {
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  const fixed = (value: number, digits = 2): number => Number(value.toFixed(digits));
  const rawSeconds = mean(rounds.map((r) => r.rawSeconds));
  const aggSeconds = mean(rounds.map((r) => r.agg['seconds'] as number));
  const agg = rounds[rounds.length - 1]?.agg as Record<string, unknown>;
  const mb = valueBytes / 1e6;
  const mergedStateBytes = agg['mergedStateBytes'] as number;
  const peak = Math.max(...rounds.map((r) => r.agg['peakRssBytes'] as number));
  const rssTarget = 2 * mergedStateBytes + 300e6;
  const ratioTarget = args.durability === 'full' ? 0.3 : 0.6;
  // CPU seconds during the upload (mean per round): the server's event loop, all its threads, and the uploading clients.
  const cpu = {
    aggregator: {
      eventLoop: mean(rounds.map((r) => (r.agg['serverCpu'] as { main: number }).main)),
      allThreads: mean(rounds.map((r) => (r.agg['serverCpu'] as { total: number }).total)),
      clients: mean(rounds.map((r) => r.agg['clientCpuSeconds'] as number)),
    },
    // The chunk writer thread alone (records appended, checksums, index commits): storage's share of allThreads.
    writerThread: mean(rounds.map((r) => (r.agg['serverCpu'] as { writer: number }).writer)),
    // The slab prefaulter thread (the merged sums' fresh memory touched ahead of need).
    prefaulterThread: mean(rounds.map((r) => (r.agg['serverCpu'] as { prefaulter: number }).prefaulter)),
    rawGrpc: { eventLoop: mean(rounds.map((r) => r.raw.serverCpu.main)), allThreads: mean(rounds.map((r) => r.raw.serverCpu.total)), clients: mean(rounds.map((r) => r.raw.clientCpuSeconds)) },
  };
  const perMB = (c: { eventLoop: number; allThreads: number; clients: number }): Record<string, number> => ({
    eventLoop: fixed(c.eventLoop / mb, 5),
    allThreads: fixed(c.allThreads / mb, 5),
    clients: fixed(c.clients / mb, 5),
  });
  const round2 = (c: { eventLoop: number; allThreads: number; clients: number }): Record<string, number> => ({ eventLoop: fixed(c.eventLoop), allThreads: fixed(c.allThreads), clients: fixed(c.clients) });
  // CPU seconds per thread name, mean per round (names a round lacks count 0 there).
  const byName = (sides: ServerCpu[]): Record<string, number> => {
    const names = [...new Set(sides.flatMap((side) => Object.keys(side.byName)))].sort();
    return Object.fromEntries(names.map((name) => [name, fixed(mean(sides.map((side) => side.byName[name] ?? 0)), 3)]));
  };
  // Minor page faults during the upload, mean per round: the event loop's and all threads'.
  const faultsOf = (sides: ServerCpu[]): { eventLoop: number; allThreads: number } => ({ eventLoop: Math.round(mean(sides.map((side) => side.mainFaults))), allThreads: Math.round(mean(sides.map((side) => side.faults))) });
  const ratios = rounds.map((r) => r.rawSeconds / (r.agg['seconds'] as number));
  const medianRatio = median(ratios);
  const upload = aggregatorHealth(rounds, 'healthDuringUpload');
  const evaluate = aggregatorHealth(rounds, 'healthDuringEvaluate');
  const portUpload = aggregatorHealth(rounds, 'healthPortDuringUpload');
  const portEvaluate = aggregatorHealth(rounds, 'healthPortDuringEvaluate');
  return {
    benchmark: 'aggregator-upload',
    machine: benchMachine(),
    rows: ROWS,
    cols: COLS,
    nodes: NODES,
    chunkRows: CHUNK_ROWS,
    inFlight: IN_FLIGHT,
    // The HTTP/2 receive window per stream, both servers (the aggregator's default, --stream-window-mb).
    streamWindowBytes: STREAM_WINDOW_BYTES,
    durability: args.durability,
    rounds: rounds.map((r) => ({
      rawSeconds: fixed(r.rawSeconds),
      aggregatorSeconds: fixed(r.agg['seconds'] as number),
      ratio: fixed(r.rawSeconds / (r.agg['seconds'] as number), 3),
      cpuRatio: fixed(r.raw.serverCpu.total / (r.agg['serverCpu'] as { total: number }).total, 3),
    })),
    sampleIds: args.disjoint ? 'disjoint per node' : `shared: every node uploads the same ${Math.ceil(ROWS / NODES)} ids`,
    valueMB: fixed(mb, 1),
    wireMB: fixed(wireBytes / 1e6, 1),
    aggregator: {
      seconds: fixed(aggSeconds),
      MBps: fixed(mb / aggSeconds, 1),
      rowsPerSecond: Math.round(ROWS / aggSeconds),
      rowsStored: agg['rows'],
      mergedSamples: agg['mergedSamples'],
      peakRssMB: fixed(peak / 1e6, 1),
      startRssMB: fixed((agg['startRssBytes'] as number) / 1e6, 1),
      mergedStateMB: fixed(mergedStateBytes / 1e6, 1),
      cpuSeconds: { ...round2(cpu.aggregator), writerThread: fixed(cpu.writerThread), prefaulterThread: fixed(cpu.prefaulterThread), byThreadName: byName(rounds.map((r) => r.agg['serverCpu'] as ServerCpu)) },
      minorPageFaults: faultsOf(rounds.map((r) => r.agg['serverCpu'] as ServerCpu)),
      cpuSecondsPerMB: { ...perMB(cpu.aggregator), writerThread: fixed(cpu.writerThread / mb, 5), prefaulterThread: fixed(cpu.prefaulterThread / mb, 5) },
      // The first read after the upload: it waits for the merge, which trails the commits (mean over rounds).
      firstReadAfterUploadSeconds: mean(rounds.map((r) => r.agg['firstReadSeconds'] as number)),
      evaluateSeconds: mean(rounds.map((r) => r.agg['evaluateSeconds'] as number)),
      // Idle: the floor of the prober (a process of its own on the same shared cores).
      healthIdle: aggregatorHealth(rounds, 'healthIdle'),
      healthDuringUpload: upload,
      healthDuringEvaluate: evaluate,
      // The same checks on --health-port (its own thread): what a liveness or readiness probe asks.
      healthPortDuringUpload: portUpload,
      healthPortDuringEvaluate: portEvaluate,
    },
    rawGrpc: {
      seconds: fixed(rawSeconds),
      MBps: fixed(mb / rawSeconds, 1),
      rowsPerSecond: Math.round(ROWS / rawSeconds),
      cpuSeconds: { ...round2(cpu.rawGrpc), byThreadName: byName(rounds.map((r) => r.raw.serverCpu)) },
      minorPageFaults: faultsOf(rounds.map((r) => r.raw.serverCpu)),
      cpuSecondsPerMB: perMB(cpu.rawGrpc),
      // Probed as the aggregator is (two probers during the upload), pooled over rounds.
      healthDuringUpload: pooledHealth(rounds.map((r) => r.raw.healthDuringUpload)),
    },
    // The ratio of the mean times, and the median of the rounds' ratios (what the target is judged on: one slow round of either side moves it less).
    ratioToRawGrpc: fixed(rawSeconds / aggSeconds, 3),
    medianRatioToRawGrpc: fixed(medianRatio, 3),
    // Server CPU of raw gRPC over the aggregator's (all threads): what the ratio would be on a machine with cores to spare.
    cpuRatioToRawGrpc: fixed(cpu.rawGrpc.allThreads / cpu.aggregator.allThreads, 3),
    targets: {
      throughputRatio: { target: ratioTarget, met: medianRatio >= ratioTarget },
      peakRss: { targetMB: fixed(rssTarget / 1e6, 1), met: peak <= rssTarget },
      healthP99: {
        targetMs: 100,
        duringUpload: upload.p99Ms < 100,
        duringEvaluate: evaluate.p99Ms < 100,
        healthPortDuringUpload: portUpload.p99Ms < 100,
        healthPortDuringEvaluate: portEvaluate.p99Ms < 100,
      },
    },
    loadAverage: loadavg().map((l) => fixed(l)),
    note: 'loopback on a shared 2-core machine; other processes compete for CPU, so absolute numbers are noisy: compare within a round, and CPU seconds',
  };
}
