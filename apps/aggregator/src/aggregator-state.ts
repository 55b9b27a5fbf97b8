import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { decodeMatrix, encodeMatrix, encodingName } from '@rlsa/wire';
import type { DecodedMatrix, EncodingName } from '@rlsa/wire';
import { RlsaError, linearCka } from '@rlsa/core';
import {
  Encoding,
  MatrixSchema,
  MergedChunkSchema,
  ModelCardSchema,
  NodeRole,
  NodeStatusSchema,
  RunConfigSchema,
  RunStatusSchema,
  Similarity,
  SpaceKind,
} from '@rlsa/proto';
import type { JoinRequest, MergedChunk, ModelCard, NodeStatus, RunConfig, RunStatus, UploadChunk } from '@rlsa/proto';
import type { Logger } from 'pino';
import { bytesOf, int32FromBytes, uint32FromBytes } from './storage/buffers.ts';
import { AggregatorError } from './errors.ts';
import { MergedSums } from './merge/merged-sums.ts';
import type { ChunkSink } from './storage/chunk-sink.ts';
import type { SlabSource } from './merge/slab-prefaulter.ts';
import type { ChunkRow } from './storage/schema.ts';
import type { Storage } from './storage/storage.ts';

/** Rows per uploaded chunk, at most (the row index of a sample's location is packed in 16 bits). */
export const MAX_ROWS_PER_CHUNK = 65_536;
/** Neighbours per Nearest call, at most. */
export const MAX_NEAREST_K = 1_000;
const DEFAULT_NEAREST_K = 10;
/** Target size of a streamed MergedChunk when the client does not ask for a row count. */
const READ_CHUNK_BYTES = 1 << 20;
const SCRATCH_MAX_VALUES = 4 * 1024 * 1024;
/** Decode buffers kept for reuse: about the chunks in flight across all upload streams. */
const BUFFER_POOL_SIZE = 32;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

interface SpaceState {
  /** Highest stored (committed) seq, -1 when none. */
  lastSeq: number;
  /** Highest accepted seq: committed or being committed. */
  acceptedSeq: number;
  chunks: number;
  /** Counted rows (each sample once per node). */
  rows: number;
  /** sample id → seq · 2^16 + row of the chunk row that holds it. */
  readonly owned: Map<number, number>;
}

interface NodeState {
  readonly nodeId: string;
  readonly role: NodeRole;
  readonly taskId: string;
  model: ModelCard;
  finished: boolean;
  readonly joinedAtMs: number;
  readonly spaces: Map<SpaceKind, SpaceState>;
  /** Open upload streams of this node. */
  connections: number;
  readonly log: Logger;
}

interface RunState {
  readonly config: RunConfig;
  readonly width: number;
  readonly merged: MergedSums;
  readonly nodes: Map<string, NodeState>;
  referenceNodeId: string | undefined;
  updatedAtMs: number;
  readonly listeners: Set<() => void>;
  notifyScheduled: boolean;
  readonly log: Logger;
}

/** What an accepted (or duplicate) chunk did, for the acknowledgement and the metrics. */
export interface ChunkOutcome {
  space: SpaceKind;
  seq: number;
  rowsStored: number;
  duplicate: boolean;
  /** Rows newly counted by this chunk. */
  rowsCounted: number;
  payloadBytes: number;
  /** Seconds spent in the SQLite commit (0 for a duplicate). */
  commitSeconds: number;
}

export interface CkaResult {
  subject: string;
  n: number;
  linearBiased: number;
  linearDebiased: number;
}

export interface NeighborResult {
  sampleId: number;
  similarity: number;
  label: number;
}

/** Rows of a space read from disk: ids, values (rows × cols), labels (-1 unknown). */
export interface SpaceData {
  sampleIds: Uint32Array;
  values: Float32Array;
  cols: number;
  labels: Int32Array;
}

/**
 * The aggregator's state and rules, free of gRPC: runs, nodes, stored chunks (on disk, via
 * Storage) and each run's merged sums (in memory, rebuilt from disk on start). Every method
 * validates completely before it writes, so a refused request changes nothing; errors are
 * AggregatorErrors (mapped to gRPC statuses by the edge).
 */
export class AggregatorState {
  private readonly runs = new Map<string, RunState>();
  /** Free buffers for decoded chunk values (a chunk's values live from validation to merge). */
  private readonly bufferPool: Float32Array[] = [];

  /**
   * `sink` commits chunks (a ChunkWriter worker in the server). `slabs` prepares the merged sums'
   * memory ahead (a SlabPrefaulter in the server); by default MergedSums allocates it.
   */
  constructor(
    private readonly storage: Storage,
    private readonly log: Logger,
    private readonly sink: ChunkSink,
    private readonly slabs?: SlabSource,
  ) {
    this.rebuild();
  }

  /** Resolves when every accepted chunk has been committed (or failed). */
  drain(): Promise<void> {
    return this.sink.drain();
  }

  private takeBuffer(values: number): Float32Array {
    for (let i = 0; i < this.bufferPool.length; i += 1) {
      const candidate = this.bufferPool[i] as Float32Array;
      if (candidate.length >= values) {
        this.bufferPool.splice(i, 1);
        return candidate;
      }
    }
    return new Float32Array(values);
  }

  private returnBuffer(buffer: Float32Array): void {
    if (this.bufferPool.length < BUFFER_POOL_SIZE) this.bufferPool.push(buffer);
  }

  // ---------------------------------------------------------------- runs

  /**
   * Creates a run. Creating it again with an identical config is a no-op (a run file read at
   * every start); with another config it is ALREADY_EXISTS.
   */
  createRun(input: RunConfig): RunStatus {
    const config = normalizeConfig(input);
    const existing = this.runs.get(config.runId);
    if (existing !== undefined) {
      if (!equals(RunConfigSchema, existing.config, config)) {
        throw new AggregatorError('already_exists', `run ${config.runId} exists with another configuration`);
      }
      return this.status(config.runId);
    }
    const now = Date.now();
    this.storage.insertRun(config.runId, toBinary(RunConfigSchema, config), now);
    const run = this.addRunState(config, now);
    run.log.info({ anchors: config.anchorIds.length }, 'run created');
    return this.status(config.runId);
  }

  listRuns(): RunStatus[] {
    return [...this.runs.keys()].map((runId) => this.status(runId));
  }

  status(runId: string): RunStatus {
    const run = this.run(runId);
    return create(RunStatusSchema, {
      config: run.config,
      nodes: [...run.nodes.values()].map(nodeStatus),
      mergedSamples: BigInt(run.merged.sampleCount),
      updatedAtMs: BigInt(run.updatedAtMs),
    });
  }

  /** Calls `listener` (coalesced, at most once per event-loop turn) after each change of the run. */
  subscribe(runId: string, listener: () => void): () => void {
    const run = this.run(runId);
    run.listeners.add(listener);
    return () => run.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- nodes

  /**
   * Joins a node. FAILED_PRECONDITION when the fingerprint or relative width does not match
   * the run, when another reference has joined, or when the node joined before with another
   * role, task or model (architecture, embedding width). Joining again is how a node resumes.
   */
  join(request: JoinRequest): { config: RunConfig; lastRelativeSeq: number; lastAbsoluteSeq: number } {
    const run = this.run(request.runId);
    if (!ID_PATTERN.test(request.nodeId)) {
      throw new AggregatorError('invalid_argument', `node id ${JSON.stringify(request.nodeId)} must match ${ID_PATTERN.source}`);
    }
    if (request.role !== NodeRole.TRAINER && request.role !== NodeRole.REFERENCE) {
      throw new AggregatorError('invalid_argument', 'role must be NODE_ROLE_TRAINER or NODE_ROLE_REFERENCE');
    }
    const model = request.model;
    if (model === undefined || model.embeddingWidth === 0 || model.architecture === '') {
      throw new AggregatorError('invalid_argument', 'a model card with architecture and embedding width is required');
    }
    if (model.taskAccuracy !== undefined && !(model.taskAccuracy >= 0 && model.taskAccuracy <= 1)) {
      throw new AggregatorError('invalid_argument', `task accuracy ${model.taskAccuracy} is not in [0, 1]`);
    }
    if (request.anchorFingerprint !== run.config.anchorFingerprint) {
      throw new AggregatorError(
        'failed_precondition',
        `anchor fingerprint ${request.anchorFingerprint.slice(0, 16) || '(empty)'}… does not match run ${run.config.runId} (${run.config.anchorFingerprint.slice(0, 16)}…)`,
      );
    }
    if (request.relativeWidth !== run.width) {
      throw new AggregatorError('failed_precondition', `relative width ${request.relativeWidth} does not match the run's ${run.width} anchors`);
    }
    const existing = run.nodes.get(request.nodeId);
    if (existing !== undefined) {
      if (existing.role !== request.role || existing.taskId !== request.taskId) {
        throw new AggregatorError('failed_precondition', `node ${request.nodeId} joined before with another role or task`);
      }
      if (existing.model.architecture !== model.architecture || existing.model.embeddingWidth !== model.embeddingWidth) {
        throw new AggregatorError('failed_precondition', `node ${request.nodeId} joined before with another model`);
      }
      if (model.taskAccuracy !== undefined && model.taskAccuracy !== existing.model.taskAccuracy) {
        this.storage.updateNodeModel(run.config.runId, request.nodeId, Buffer.from(toBinary(ModelCardSchema, model)));
        existing.model = model;
        this.changed(run);
      }
      existing.log.info('node joined again');
    } else {
      if (request.role === NodeRole.REFERENCE && run.referenceNodeId !== undefined) {
        throw new AggregatorError('failed_precondition', `run ${run.config.runId} already has a reference node (${run.referenceNodeId})`);
      }
      const now = Date.now();
      const modelBytes = Buffer.from(toBinary(ModelCardSchema, model));
      this.storage.insertNode({ runId: run.config.runId, nodeId: request.nodeId, role: request.role, taskId: request.taskId, model: modelBytes, joinedAtMs: now });
      const node = this.addNodeState(run, request.nodeId, request.role, request.taskId, model, false, now);
      node.log.info({ role: NodeRole[request.role], taskId: request.taskId, architecture: model.architecture }, 'node joined');
      this.changed(run);
    }
    const node = run.nodes.get(request.nodeId) as NodeState;
    return {
      config: run.config,
      lastRelativeSeq: spaceOf(node, SpaceKind.RELATIVE).lastSeq,
      lastAbsoluteSeq: spaceOf(node, SpaceKind.ABSOLUTE).lastSeq,
    };
  }

  /** Marks a node's upload complete (idempotent). */
  finish(runId: string, nodeId: string): NodeStatus {
    const run = this.run(runId);
    const node = this.node(run, nodeId);
    if (!node.finished) {
      this.storage.setFinished(runId, nodeId);
      node.finished = true;
      node.log.info({ relativeRows: spaceOf(node, SpaceKind.RELATIVE).rows }, 'node finished');
      this.changed(run);
    }
    return nodeStatus(node);
  }

  /** An upload stream of the node opened (+1) or closed (-1). */
  connection(runId: string, nodeId: string, delta: 1 | -1): void {
    const run = this.runs.get(runId);
    const node = run?.nodes.get(nodeId);
    if (run === undefined || node === undefined) return;
    node.connections = Math.max(0, node.connections + delta);
    this.changed(run);
  }

  /** Nodes with at least one open upload stream. */
  connectedNodes(): number {
    let count = 0;
    for (const run of this.runs.values()) for (const node of run.nodes.values()) if (node.connections > 0) count += 1;
    return count;
  }

  /** Bytes of all runs' merged sums. */
  mergedBytes(): number {
    let bytes = 0;
    for (const run of this.runs.values()) bytes += run.merged.bytes;
    return bytes;
  }

  // ---------------------------------------------------------------- upload

  /**
   * Stores one chunk and merges it, or refuses it with nothing changed.
   *
   * - seq ≤ last stored: identical content → acknowledged as a duplicate, not counted again;
   *   other content → ALREADY_EXISTS. seq > last + 1 → FAILED_PRECONDITION (a gap).
   * - A sample this node stored before: same values (and label) → the row is kept but not
   *   counted again; other values → ALREADY_EXISTS (a node's row for a sample is immutable;
   *   not INVALID_ARGUMENT, because the chunk alone is well formed: it conflicts with state).
   * - Shapes, encodings, NaN/Inf, duplicate ids within the chunk → INVALID_ARGUMENT.
   * - A seq (or a sample of this node) whose chunk is still being committed → UNAVAILABLE:
   *   resend it after (it will then be a duplicate, or refused as above).
   * Validation happens at once, in arrival order; the returned promise resolves after the
   * chunk's INSERT committed (the sink), and only then is the chunk merged and acknowledged.
   */
  uploadChunk(chunk: UploadChunk): Promise<ChunkOutcome> {
    const run = this.run(chunk.runId);
    const node = this.node(run, chunk.nodeId);
    if (chunk.space !== SpaceKind.RELATIVE && chunk.space !== SpaceKind.ABSOLUTE) {
      throw new AggregatorError('invalid_argument', 'space must be SPACE_KIND_RELATIVE or SPACE_KIND_ABSOLUTE');
    }
    if (chunk.space === SpaceKind.ABSOLUTE && !run.config.allowAbsolute) {
      throw new AggregatorError('failed_precondition', `run ${run.config.runId} does not accept absolute embeddings`);
    }
    const space = spaceOf(node, chunk.space);
    const seq = Number(chunk.seq);
    const wire = chunk.values;
    if (wire === undefined) throw new AggregatorError('invalid_argument', `chunk ${seq} has no values`);
    const payloadBytes = wire.data.byteLength + wire.rowScales.byteLength + chunk.sampleIds.length * 4 + chunk.labels.length * 4;
    const sampleIdBytes = bytesOf(Uint32Array.from(chunk.sampleIds));
    const labelBytes = chunk.labels.length === 0 ? null : bytesOf(Int32Array.from(chunk.labels));

    if (seq <= space.lastSeq) {
      const stored = this.storage.getChunk(run.config.runId, node.nodeId, chunk.space, seq);
      if (stored !== undefined && sameChunk(stored, wire.rows, wire.cols, wire.encoding, sampleIdBytes, wire.data, wire.rowScales, labelBytes)) {
        return Promise.resolve({ space: chunk.space, seq, rowsStored: space.rows, duplicate: true, rowsCounted: 0, payloadBytes, commitSeconds: 0 });
      }
      throw new AggregatorError('already_exists', `chunk ${seq} of node ${node.nodeId} was stored before with other content`);
    }
    if (seq <= space.acceptedSeq) throw new AggregatorError('unavailable', `chunk ${seq} of node ${node.nodeId} is being stored; send it again later`);
    if (seq !== space.acceptedSeq + 1) {
      throw new AggregatorError('failed_precondition', `chunk seq ${seq} leaves a gap: the next expected seq is ${space.acceptedSeq + 1}`);
    }
    if (node.finished) throw new AggregatorError('failed_precondition', `node ${node.nodeId} finished its upload`);

    const accepted = run.config.acceptedEncodings;
    if (accepted.length > 0 && !accepted.includes(wire.encoding)) {
      throw new AggregatorError('invalid_argument', `encoding ${Encoding[wire.encoding] ?? wire.encoding} is not accepted by run ${run.config.runId}`);
    }
    const expectedCols = chunk.space === SpaceKind.RELATIVE ? run.width : node.model.embeddingWidth;
    const rows = wire.rows;
    if (rows === 0) throw new AggregatorError('invalid_argument', `chunk ${seq} has no rows`);
    if (rows > MAX_ROWS_PER_CHUNK) throw new AggregatorError('resource_exhausted', `chunk ${seq} has ${rows} rows; at most ${MAX_ROWS_PER_CHUNK}`);
    if (wire.cols !== expectedCols) {
      throw new AggregatorError('invalid_argument', `chunk ${seq} has width ${wire.cols}; the ${chunk.space === SpaceKind.RELATIVE ? 'relative' : 'absolute'} width is ${expectedCols}`);
    }
    if (chunk.sampleIds.length !== rows) throw new AggregatorError('invalid_argument', `chunk ${seq} has ${chunk.sampleIds.length} sample ids for ${rows} rows`);
    if (chunk.labels.length !== 0 && chunk.labels.length !== rows) {
      throw new AggregatorError('invalid_argument', `chunk ${seq} has ${chunk.labels.length} labels for ${rows} rows`);
    }
    for (const label of chunk.labels) {
      if (label < -1) throw new AggregatorError('invalid_argument', `label ${label} is not a class index (-1 = unknown)`);
    }
    // The decoded values live until the chunk is merged after its commit: buffers come from a
    // small pool (no 1 MB allocation per chunk); a rare chunk over 16 MB of float32 gets its own.
    const values = rows * expectedCols;
    const buffer = values <= SCRATCH_MAX_VALUES ? this.takeBuffer(values) : undefined;
    let decoded: DecodedMatrix;
    try {
      decoded = decodeOrRefuse(wire, expectedCols, seq, buffer);
    } catch (error: unknown) {
      if (buffer !== undefined) this.returnBuffer(buffer);
      throw error;
    }
    try {
      return this.storeChunk(run, node, space, chunk, seq, decoded, buffer, payloadBytes, sampleIdBytes, labelBytes);
    } catch (error: unknown) {
      // Refused before it was handed to the sink: the buffer is free again.
      if (buffer !== undefined) this.returnBuffer(buffer);
      throw error;
    }
  }

  private storeChunk(
    run: RunState,
    node: NodeState,
    space: SpaceState,
    chunk: UploadChunk,
    seq: number,
    decoded: DecodedMatrix,
    buffer: Float32Array | undefined,
    payloadBytes: number,
    sampleIdBytes: Buffer,
    labelBytes: Buffer | null,
  ): Promise<ChunkOutcome> {
    const wire = chunk.values as NonNullable<UploadChunk['values']>;
    const rows = wire.rows;

    // Per-row duplicates: ids repeated in the chunk, or stored before by this node.
    const counted = new Uint8Array(rows).fill(1);
    let countedRows = rows;
    const seen = new Set<number>();
    const cache = new Map<number, { values: DecodedMatrix; labels: Int32Array | null }>();
    for (let i = 0; i < rows; i += 1) {
      const id = chunk.sampleIds[i] as number;
      if (seen.has(id)) throw new AggregatorError('invalid_argument', `sample id ${id} appears twice in chunk ${seq}`);
      seen.add(id);
      const location = space.owned.get(id);
      if (location === undefined) continue;
      const storedSeq = Math.floor(location / MAX_ROWS_PER_CHUNK);
      const storedRow = location % MAX_ROWS_PER_CHUNK;
      if (storedSeq > space.lastSeq) {
        throw new AggregatorError('unavailable', `sample ${id} is in chunk ${storedSeq} of node ${node.nodeId}, still being stored; send chunk ${seq} again later`);
      }
      let stored = cache.get(storedSeq);
      if (stored === undefined) {
        const row = this.storage.getChunk(run.config.runId, node.nodeId, chunk.space, storedSeq);
        if (row === undefined) throw new AggregatorError('internal', `chunk ${storedSeq} of node ${node.nodeId} is missing from storage`);
        stored = { values: decodeStored(row), labels: row.labels === null ? null : int32FromBytes(row.labels) };
        cache.set(storedSeq, stored);
      }
      const cols = decoded.cols;
      const a = decoded.data.subarray(i * cols, (i + 1) * cols);
      const b = stored.values.data.subarray(storedRow * cols, (storedRow + 1) * cols);
      const labelA = chunk.labels.length === 0 ? -1 : (chunk.labels[i] as number);
      const labelB = stored.labels === null ? -1 : (stored.labels[storedRow] as number);
      if (!sameFloats(a, b) || labelA !== labelB) {
        throw new AggregatorError('already_exists', `sample ${id} was sent before by node ${node.nodeId} (chunk ${storedSeq}) with other values`);
      }
      counted[i] = 0;
      countedRows -= 1;
    }

    const lend = wire.encoding === Encoding.FLOAT32;
    const valueCount = decoded.rows * decoded.cols;
    const row: ChunkRow = {
      runId: run.config.runId,
      nodeId: node.nodeId,
      space: chunk.space,
      seq,
      rows,
      cols: wire.cols,
      encoding: wire.encoding,
      sampleIds: sampleIdBytes,
      // float32: the decoded values are the received bytes (copied once, aligned), in a buffer of
      // ours that is lent to the writer thread and comes back for the merge; other encodings are
      // stored as received.
      data: lend ? bytesOf(decoded.data) : bytesOf(wire.data),
      rowScales: wire.encoding === Encoding.INT8 ? bytesOf(wire.rowScales) : null,
      labels: labelBytes,
      counted: countedRows === rows ? null : bytesOf(counted),
      countedRows,
    };
    // Accepted: the seq and the samples are reserved now, so that the chunks behind it can be
    // validated while it is being committed.
    const reserved: number[] = [];
    for (let i = 0; i < rows; i += 1) {
      if (counted[i] === 0) continue;
      const id = chunk.sampleIds[i] as number;
      space.owned.set(id, seq * MAX_ROWS_PER_CHUNK + i);
      reserved.push(id);
    }
    space.acceptedSeq = seq;
    // The callbacks below keep what they need, not `chunk`: its payload views the received
    // message's buffer, which should die young (a megabyte per chunk kept until the commit was
    // promoted to the old generation, costing a full GC every few dozen chunks).
    const labels = chunk.labels;
    const sampleIds = chunk.sampleIds;
    const kind = chunk.space;
    return this.sink.write(row, lend).then(
      ({ seconds: commitSeconds, data }) => {
        // Committed: now the in-memory state follows (nothing below can fail on valid input).
        if (lend && data === undefined) throw new AggregatorError('internal', `chunk ${seq}: the writer did not return its payload`);
        const values = lend ? { rows: decoded.rows, cols: decoded.cols, data: new Float32Array((data as Uint8Array).buffer, (data as Uint8Array).byteOffset, valueCount) } : decoded;
        this.applyChunk(run, node, space, kind, seq, sampleIds, values, labels, countedRows === rows ? null : counted);
        if (buffer !== undefined) this.returnBuffer(lend ? new Float32Array((data as Uint8Array).buffer) : buffer);
        this.changed(run);
        return { space: kind, seq, rowsStored: space.rows, duplicate: false, rowsCounted: countedRows, payloadBytes, commitSeconds };
      },
      (error: unknown) => {
        // Not stored: release the reservations (a storage failure is fatal for later chunks too).
        for (const id of reserved) space.owned.delete(id);
        space.acceptedSeq = Math.min(space.acceptedSeq, seq - 1);
        // A lent buffer stayed with the writer.
        if (buffer !== undefined && !lend) this.returnBuffer(buffer);
        throw error;
      },
    );
  }

  // ---------------------------------------------------------------- reads

  /**
   * The merged space as MergedChunk messages of at most `maxRows` rows: all samples in
   * ascending id order, or the given ids in the given order (NOT_FOUND if one has no
   * contribution). Values are the per-sample mean over trainer spaces.
   */
  *readMerged(runId: string, sampleIds: readonly number[], encoding: Encoding, maxRows: number): Generator<MergedChunk> {
    const run = this.run(runId);
    const name = outputEncoding(encoding);
    for (const id of sampleIds) {
      if (!run.merged.has(id)) throw new AggregatorError('not_found', `sample ${id} has no contribution in run ${runId}`);
    }
    const ids = sampleIds.length > 0 ? Uint32Array.from(sampleIds) : run.merged.sortedIds();
    const width = run.width;
    const rowsPerChunk = rowsPerMessage(maxRows, width);
    for (let start = 0; start < ids.length; start += rowsPerChunk) {
      const batch = ids.subarray(start, Math.min(ids.length, start + rowsPerChunk));
      const values = new Float32Array(batch.length * width);
      const contributors: number[] = [];
      const labels: number[] = [];
      for (let i = 0; i < batch.length; i += 1) {
        const read = run.merged.readMean(batch[i] as number, values, i * width);
        contributors.push(read?.count ?? 0);
        labels.push(read?.label ?? -1);
      }
      yield create(MergedChunkSchema, {
        sampleIds: Array.from(batch),
        values: encodeMatrix({ rows: batch.length, cols: width, data: values }, name),
        contributors,
        labels,
      });
    }
  }

  /** One node's stored space (counted rows, in upload order) as MergedChunk messages. */
  *readNodeSpace(runId: string, nodeId: string, space: SpaceKind, maxRows: number): Generator<MergedChunk> {
    const run = this.run(runId);
    const node = this.node(run, nodeId);
    if (space !== SpaceKind.RELATIVE && space !== SpaceKind.ABSOLUTE) {
      throw new AggregatorError('invalid_argument', 'space must be SPACE_KIND_RELATIVE or SPACE_KIND_ABSOLUTE');
    }
    for (const part of this.nodeSpaceParts(run.config.runId, node.nodeId, space)) {
      const rowsPerChunk = rowsPerMessage(maxRows, part.cols);
      const n = part.sampleIds.length;
      for (let start = 0; start < n; start += rowsPerChunk) {
        const end = Math.min(n, start + rowsPerChunk);
        yield create(MergedChunkSchema, {
          sampleIds: Array.from(part.sampleIds.subarray(start, end)),
          values: encodeMatrix({ rows: end - start, cols: part.cols, data: part.values.subarray(start * part.cols, end * part.cols) }, 'float32'),
          contributors: new Array<number>(end - start).fill(1),
          labels: Array.from(part.labels.subarray(start, end)),
        });
      }
    }
  }

  /** A node's whole stored space (counted rows) in memory. */
  readSpace(runId: string, nodeId: string, space: SpaceKind): SpaceData {
    const run = this.run(runId);
    const node = this.node(run, nodeId);
    const state = spaceOf(node, space);
    const cols = space === SpaceKind.RELATIVE ? run.width : node.model.embeddingWidth;
    const sampleIds = new Uint32Array(state.rows);
    const values = new Float32Array(state.rows * cols);
    const labels = new Int32Array(state.rows);
    let offset = 0;
    for (const part of this.nodeSpaceParts(runId, nodeId, space)) {
      sampleIds.set(part.sampleIds, offset);
      values.set(part.values, offset * cols);
      labels.set(part.labels, offset);
      offset += part.sampleIds.length;
    }
    return { sampleIds, values, cols, labels };
  }

  /**
   * Linear CKA (biased and debiased, core `linearCka`) of the merged space and of each
   * trainer's relative space against the reference's relative space, on the samples each
   * shares with the reference (n). A score is NaN when it is undefined there (n too small
   * for the debiased estimator, or a constant space).
   */
  evaluate(runId: string): { referenceNodeId: string; scores: CkaResult[] } {
    const run = this.run(runId);
    const referenceId = run.referenceNodeId;
    if (referenceId === undefined) throw new AggregatorError('failed_precondition', `run ${runId} has no reference node yet`);
    const reference = this.readSpace(runId, referenceId, SpaceKind.RELATIVE);
    if (reference.sampleIds.length === 0) throw new AggregatorError('failed_precondition', `the reference node ${referenceId} has uploaded no rows yet`);
    const width = run.width;
    const referenceRow = new Map<number, number>();
    reference.sampleIds.forEach((id, row) => referenceRow.set(id, row));

    const scores: CkaResult[] = [];
    {
      const shared = reference.sampleIds.filter((id) => run.merged.has(id));
      const x = new Float32Array(shared.length * width);
      const y = new Float32Array(shared.length * width);
      shared.forEach((id, i) => {
        run.merged.readMean(id, x, i * width);
        const r = referenceRow.get(id) as number;
        y.set(reference.values.subarray(r * width, (r + 1) * width), i * width);
      });
      scores.push({ subject: 'merged', ...ckaPair(x, y, shared.length, width) });
    }
    for (const node of run.nodes.values()) {
      if (node.role !== NodeRole.TRAINER) continue;
      const space = this.readSpace(runId, node.nodeId, SpaceKind.RELATIVE);
      const rows: number[] = [];
      const refRows: number[] = [];
      space.sampleIds.forEach((id, row) => {
        const r = referenceRow.get(id);
        if (r !== undefined) {
          rows.push(row);
          refRows.push(r);
        }
      });
      const x = new Float32Array(rows.length * width);
      const y = new Float32Array(rows.length * width);
      rows.forEach((row, i) => {
        x.set(space.values.subarray(row * width, (row + 1) * width), i * width);
        const r = refRows[i] as number;
        y.set(reference.values.subarray(r * width, (r + 1) * width), i * width);
      });
      scores.push({ subject: node.nodeId, ...ckaPair(x, y, rows.length, width) });
    }
    return { referenceNodeId: referenceId, scores };
  }

  /**
   * The k nearest merged samples by cosine similarity to a merged sample (itself excluded)
   * or to a vector of the relative width. Cosine of a sum equals cosine of the mean.
   */
  nearest(runId: string, query: { sampleId: number } | { vector: DecodedMatrix }, k: number): NeighborResult[] {
    const run = this.run(runId);
    const count = k === 0 ? DEFAULT_NEAREST_K : k;
    if (count > MAX_NEAREST_K) throw new AggregatorError('invalid_argument', `k = ${k} is above the limit of ${MAX_NEAREST_K}`);
    const width = run.width;
    const q = new Float64Array(width);
    let exclude = -1;
    if ('sampleId' in query) {
      const row = new Float32Array(width);
      if (run.merged.readMean(query.sampleId, row, 0) === undefined) {
        throw new AggregatorError('not_found', `sample ${query.sampleId} has no contribution in run ${runId}`);
      }
      q.set(row);
      exclude = query.sampleId;
    } else {
      if (query.vector.rows !== 1 || query.vector.cols !== width) {
        throw new AggregatorError('invalid_argument', `the query vector must be 1 × ${width}, got ${query.vector.rows} × ${query.vector.cols}`);
      }
      q.set(query.vector.data);
    }
    let qNorm = 0;
    for (let c = 0; c < width; c += 1) qNorm += (q[c] as number) * (q[c] as number);
    qNorm = Math.sqrt(qNorm);
    if (qNorm === 0) throw new AggregatorError('invalid_argument', 'the query vector has zero norm (cosine is undefined)');
    const best: NeighborResult[] = [];
    run.merged.forEachSum((sampleId, sum, _count, label) => {
      if (sampleId === exclude) return;
      let dot = 0;
      let norm = 0;
      for (let c = 0; c < width; c += 1) {
        const v = sum[c] as number;
        dot += v * (q[c] as number);
        norm += v * v;
      }
      if (norm === 0) return;
      const similarity = dot / (Math.sqrt(norm) * qNorm);
      if (best.length === count && similarity <= (best[best.length - 1] as NeighborResult).similarity) return;
      let at = best.length;
      while (at > 0 && (best[at - 1] as NeighborResult).similarity < similarity) at -= 1;
      best.splice(at, 0, { sampleId, similarity, label });
      if (best.length > count) best.pop();
    });
    return best;
  }

  // ---------------------------------------------------------------- internals

  private run(runId: string): RunState {
    const run = this.runs.get(runId);
    if (run === undefined) throw new AggregatorError('not_found', `run ${JSON.stringify(runId)} does not exist`);
    return run;
  }

  private node(run: RunState, nodeId: string): NodeState {
    const node = run.nodes.get(nodeId);
    if (node === undefined) throw new AggregatorError('failed_precondition', `node ${JSON.stringify(nodeId)} has not joined run ${run.config.runId}`);
    return node;
  }

  private addRunState(config: RunConfig, updatedAtMs: number): RunState {
    const run: RunState = {
      config,
      width: config.anchorIds.length,
      merged: new MergedSums(config.anchorIds.length, this.slabs),
      nodes: new Map(),
      referenceNodeId: undefined,
      updatedAtMs,
      listeners: new Set(),
      notifyScheduled: false,
      log: this.log.child({ runId: config.runId }),
    };
    this.runs.set(config.runId, run);
    return run;
  }

  private addNodeState(run: RunState, nodeId: string, role: NodeRole, taskId: string, model: ModelCard, finished: boolean, joinedAtMs: number): NodeState {
    const newSpace = (): SpaceState => ({ lastSeq: -1, acceptedSeq: -1, chunks: 0, rows: 0, owned: new Map() });
    const node: NodeState = {
      nodeId,
      role,
      taskId,
      model,
      finished,
      joinedAtMs,
      spaces: new Map([
        [SpaceKind.RELATIVE, newSpace()],
        [SpaceKind.ABSOLUTE, newSpace()],
      ]),
      connections: 0,
      log: run.log.child({ nodeId }),
    };
    run.nodes.set(nodeId, node);
    if (role === NodeRole.REFERENCE) run.referenceNodeId = nodeId;
    return node;
  }

  private applyChunk(
    run: RunState,
    node: NodeState,
    space: SpaceState,
    kind: SpaceKind,
    seq: number,
    sampleIds: ArrayLike<number>,
    values: DecodedMatrix,
    labels: ArrayLike<number>,
    counted: Uint8Array | null,
  ): void {
    const merge = kind === SpaceKind.RELATIVE && node.role === NodeRole.TRAINER;
    let countedRows = 0;
    for (let i = 0; i < values.rows; i += 1) {
      if (counted !== null && counted[i] === 0) continue;
      countedRows += 1;
      const id = sampleIds[i] as number;
      space.owned.set(id, seq * MAX_ROWS_PER_CHUNK + i);
      if (merge) run.merged.add(id, values.data, i, labels.length === 0 ? -1 : (labels[i] as number));
    }
    space.lastSeq = seq;
    space.acceptedSeq = Math.max(space.acceptedSeq, seq);
    space.chunks += 1;
    space.rows += countedRows;
  }

  private *nodeSpaceParts(runId: string, nodeId: string, space: SpaceKind): Generator<SpaceData> {
    let after = -1;
    for (;;) {
      // A page at a time: no SQLite iterator stays open across a yield.
      const page = this.storage.chunksAfter(runId, nodeId, space, after, 16);
      if (page.length === 0) return;
      for (const row of page) {
        after = row.seq;
        const values = decodeStored(row);
        const ids = uint32FromBytes(row.sampleIds);
        const labels = row.labels === null ? new Int32Array(row.rows).fill(-1) : int32FromBytes(row.labels);
        if (row.counted === null) {
          yield { sampleIds: ids, values: values.data, cols: row.cols, labels };
          continue;
        }
        const keep: number[] = [];
        for (let i = 0; i < row.rows; i += 1) if (row.counted[i] === 1) keep.push(i);
        const keptValues = new Float32Array(keep.length * row.cols);
        keep.forEach((i, j) => keptValues.set(values.data.subarray(i * row.cols, (i + 1) * row.cols), j * row.cols));
        yield {
          sampleIds: Uint32Array.from(keep, (i) => ids[i] as number),
          values: keptValues,
          cols: row.cols,
          labels: Int32Array.from(keep, (i) => labels[i] as number),
        };
      }
    }
  }

  private changed(run: RunState): void {
    run.updatedAtMs = Date.now();
    if (run.notifyScheduled || run.listeners.size === 0) return;
    run.notifyScheduled = true;
    setImmediate(() => {
      run.notifyScheduled = false;
      for (const listener of [...run.listeners]) listener();
    });
  }

  /** Loads runs and nodes, then replays every stored chunk into the merged sums. */
  private rebuild(): void {
    const started = Date.now();
    for (const row of this.storage.listRuns()) {
      const run = this.addRunState(fromBinary(RunConfigSchema, row.config), row.createdAtMs);
      for (const node of this.storage.listNodes(row.runId)) {
        this.addNodeState(run, node.nodeId, node.role, node.taskId, fromBinary(ModelCardSchema, node.model), node.finished, node.joinedAtMs);
      }
    }
    let chunks = 0;
    for (const row of this.storage.allChunks()) {
      const run = this.runs.get(row.runId);
      const node = run?.nodes.get(row.nodeId);
      if (run === undefined || node === undefined) throw new AggregatorError('internal', `stored chunk of unknown run/node ${row.runId}/${row.nodeId}`);
      const space = spaceOf(node, row.space);
      const labels = row.labels === null ? [] : int32FromBytes(row.labels);
      this.applyChunk(run, node, space, row.space, row.seq, uint32FromBytes(row.sampleIds), decodeStored(row), labels, row.counted);
      run.updatedAtMs = Date.now();
      chunks += 1;
    }
    if (this.runs.size > 0) this.log.info({ runs: this.runs.size, chunks, ms: Date.now() - started }, 'state rebuilt from storage');
  }
}

function spaceOf(node: NodeState, kind: SpaceKind): SpaceState {
  const space = node.spaces.get(kind);
  if (space === undefined) throw new AggregatorError('invalid_argument', `unknown space ${kind}`);
  return space;
}

function nodeStatus(node: NodeState): NodeStatus {
  const relative = spaceOf(node, SpaceKind.RELATIVE);
  const absolute = spaceOf(node, SpaceKind.ABSOLUTE);
  return create(NodeStatusSchema, {
    nodeId: node.nodeId,
    role: node.role,
    taskId: node.taskId,
    model: node.model,
    relativeChunks: BigInt(relative.chunks),
    relativeRows: BigInt(relative.rows),
    absoluteChunks: BigInt(absolute.chunks),
    absoluteRows: BigInt(absolute.rows),
    finished: node.finished,
    connected: node.connections > 0,
  });
}

function normalizeConfig(input: RunConfig): RunConfig {
  if (!ID_PATTERN.test(input.runId)) throw new AggregatorError('invalid_argument', `run id ${JSON.stringify(input.runId)} must match ${ID_PATTERN.source}`);
  if (input.anchorIds.length === 0) throw new AggregatorError('invalid_argument', 'a run needs at least one anchor id');
  if (new Set(input.anchorIds).size !== input.anchorIds.length) throw new AggregatorError('invalid_argument', 'anchor ids must be distinct');
  if (input.anchorFingerprint === '') throw new AggregatorError('invalid_argument', 'a run needs an anchor fingerprint');
  if (Similarity[input.similarity] === undefined) throw new AggregatorError('invalid_argument', `unknown similarity ${input.similarity}`);
  for (const e of input.acceptedEncodings) {
    if (e === Encoding.UNSPECIFIED || Encoding[e] === undefined) throw new AggregatorError('invalid_argument', `unknown accepted encoding ${e}`);
  }
  return create(RunConfigSchema, {
    runId: input.runId,
    anchorIds: [...input.anchorIds],
    similarity: input.similarity === Similarity.UNSPECIFIED ? Similarity.COSINE : input.similarity,
    anchorFingerprint: input.anchorFingerprint,
    acceptedEncodings: [...new Set(input.acceptedEncodings)].sort((a, b) => a - b),
    center: input.center,
    allowAbsolute: input.allowAbsolute,
  });
}

function decodeOrRefuse(wire: NonNullable<UploadChunk['values']>, expectedCols: number, seq: number, scratch: Float32Array | undefined): DecodedMatrix {
  try {
    return decodeMatrix(wire, scratch === undefined ? { expectedCols } : { expectedCols, scratch });
  } catch (error: unknown) {
    if (error instanceof RlsaError) {
      throw new AggregatorError(error.code === 'too_large' ? 'resource_exhausted' : 'invalid_argument', `chunk ${seq}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function decodeStored(row: ChunkRow): DecodedMatrix {
  return decodeMatrix(
    create(MatrixSchema, {
      rows: row.rows,
      cols: row.cols,
      encoding: row.encoding,
      data: row.data,
      rowScales: row.rowScales ?? new Uint8Array(0),
    }),
  );
}

function sameChunk(
  stored: ChunkRow,
  rows: number,
  cols: number,
  encoding: number,
  sampleIds: Buffer,
  data: Uint8Array,
  rowScales: Uint8Array,
  labels: Buffer | null,
): boolean {
  return (
    stored.rows === rows &&
    stored.cols === cols &&
    stored.encoding === encoding &&
    stored.sampleIds.equals(sampleIds) &&
    stored.data.equals(data) &&
    (stored.rowScales ?? Buffer.alloc(0)).equals(encoding === Encoding.INT8 ? rowScales : new Uint8Array(0)) &&
    (stored.labels === null ? labels === null : labels !== null && stored.labels.equals(labels))
  );
}

function sameFloats(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

function outputEncoding(encoding: Encoding): EncodingName {
  if (encoding === Encoding.UNSPECIFIED) return 'float32';
  try {
    return encodingName(encoding);
  } catch (error: unknown) {
    throw AggregatorError.from(error, 'invalid_argument');
  }
}

function rowsPerMessage(maxRows: number, cols: number): number {
  if (maxRows > 0) return Math.min(maxRows, MAX_ROWS_PER_CHUNK);
  return Math.max(1, Math.floor(READ_CHUNK_BYTES / (Math.max(1, cols) * 4)));
}

function ckaPair(x: Float32Array, y: Float32Array, n: number, width: number): { n: number; linearBiased: number; linearDebiased: number } {
  const mx = { rows: n, cols: width, data: x };
  const my = { rows: n, cols: width, data: y };
  const safe = (debiased: boolean): number => {
    if (n === 0) return Number.NaN;
    try {
      return linearCka(mx, my, { debiased });
    } catch (error: unknown) {
      if (error instanceof RlsaError) return Number.NaN;
      throw error;
    }
  };
  return { n, linearBiased: safe(false), linearDebiased: safe(true) };
}
