import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { AdminService, AggregatorService, FetchAnchorSetRequestSchema, UploadAnchorSetRequestSchema } from '@rlsa/proto';
import type { FetchAnchorSetResponse } from '@rlsa/proto';
import { RlsaError } from '@rlsa/core';
import { anchorSetSummaryMessage, anchorSetSummaryView } from '@rlsa/wire';
import type { AnchorSetSummaryView } from '@rlsa/wire';
import { AggregatorCallError } from './client-error.ts';
import type { CallSettings, Connection } from './connection.ts';
import { backoffDelay, isRetryable } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

/** Bytes per message of an anchor-set transfer by default: far under the 64 MiB message limit. */
export const DEFAULT_ANCHOR_SET_CHUNK_BYTES = 1 << 20;

/** How far a transfer went: bytes sent or received so far, of `total`. */
export interface TransferProgress {
  bytes: number;
  total: number;
}

export interface AnchorSetUpload {
  /** Lowercase hex SHA-256 of the encoding: the aggregator verifies it when the upload completes. */
  fingerprint: string;
  summary: AnchorSetSummaryView;
  /**
   * The canonical encoding (`summary.size` bytes): whole, or as byte chunks of any size (e.g. a
   * file read as a stream), pulled only as fast as the aggregator takes them.
   */
  bytes: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Bytes per message, at most (default 1 MiB). */
  chunkBytes?: number;
  onProgress?: (progress: TransferProgress) => void;
}

export interface AnchorSetUploadResult {
  fingerprint: string;
  summary: AnchorSetSummaryView;
  /** False when the aggregator had stored the set before (then the bytes were not sent). */
  created: boolean;
}

/** A piece of a fetched set: its bytes from `offset` on, and the encoding's whole size. */
export interface AnchorSetChunkView {
  offset: number;
  data: Uint8Array;
  totalSize: number;
}

export interface AnchorSetFetch {
  /** Start at this byte (to resume); default 0. */
  offset?: number;
  /** Bytes per message, at most (default: the server's, 1 MiB). */
  maxChunkBytes?: number;
  onProgress?: (progress: TransferProgress) => void;
  signal?: AbortSignal;
}

const UPLOAD = AdminService.method.uploadAnchorSet.name;
const FETCH = AggregatorService.method.fetchAnchorSet.name;

/**
 * UploadAnchorSet: the first message names the set, the bytes follow in messages of at most
 * `chunkBytes`, each written only when the stream takes it ('drain'), so memory stays about one
 * message whatever the set's size. When the aggregator answers early (the set was stored before)
 * nothing more is sent.
 */
export async function uploadAnchorSet(c: Connection, upload: AnchorSetUpload, settings?: CallSettings): Promise<AnchorSetUploadResult> {
  const { requests, response } = c.admin.uploadAnchorSet(c.setup(settings));
  let answered = false;
  const settled = response.then(
    () => (answered = true),
    () => (answered = true),
  );
  const header = { fingerprint: upload.fingerprint, summary: anchorSetSummaryMessage(upload.summary) };
  let offset = 0;
  try {
    for await (const data of pieces(upload.bytes, upload.chunkBytes ?? DEFAULT_ANCHOR_SET_CHUNK_BYTES)) {
      if (answered) break;
      const message = create(UploadAnchorSetRequestSchema, { ...(offset === 0 ? header : {}), chunk: { offset: BigInt(offset), data } });
      offset += data.byteLength;
      if (!requests.write(message)) await drainedOrSettled(requests, settled);
      upload.onProgress?.({ bytes: offset, total: upload.summary.size });
    }
  } catch (error: unknown) {
    // The source failed: the aggregator stores nothing of a cancelled upload.
    requests.cancel();
    await settled;
    throw error;
  }
  if (offset === 0 && !answered) requests.write(create(UploadAnchorSetRequestSchema, header));
  requests.end();
  try {
    const answer = await response;
    return { fingerprint: answer.fingerprint, summary: anchorSetSummaryView(answer.summary ?? header.summary), created: answer.created };
  } catch (error: unknown) {
    throw AggregatorCallError.fromCall(error, UPLOAD);
  }
}

/**
 * FetchAnchorSet as an async iterable of pieces in order (one message in memory at a time);
 * a stream cut by a status the policy retries is opened again after the last byte received.
 * Leaving the loop cancels the stream.
 */
export function fetchAnchorSet(c: Connection, runId: string, fetch: AnchorSetFetch, retry: RetryPolicy): AsyncIterable<AnchorSetChunkView> {
  return {
    async *[Symbol.asyncIterator]() {
      let offset = fetch.offset ?? 0;
      for (let attempt = 0; ; attempt += 1) {
        const request = create(FetchAnchorSetRequestSchema, { runId, offset: BigInt(offset), maxChunkBytes: fetch.maxChunkBytes ?? 0 });
        const stream = c.aggregator.fetchAnchorSet(request, c.setup());
        const onAbort = (): void => stream.cancel();
        fetch.signal?.addEventListener('abort', onAbort);
        try {
          for await (const message of stream) {
            const piece = chunkView(message as FetchAnchorSetResponse, offset);
            offset += piece.data.byteLength;
            fetch.onProgress?.({ bytes: offset, total: piece.totalSize });
            yield piece;
          }
          return;
        } catch (error: unknown) {
          const wrapped = AggregatorCallError.fromCall(error, FETCH);
          if (attempt >= retry.attempts || !isRetryable(wrapped, retry) || fetch.signal?.aborted === true) throw wrapped;
          await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, retry)));
        } finally {
          fetch.signal?.removeEventListener('abort', onAbort);
          stream.cancel();
        }
      }
    },
  };
}

/** A fetched message as a piece; a piece that does not start where the last ended is the server's error. */
function chunkView(message: FetchAnchorSetResponse, expectedOffset: number): AnchorSetChunkView {
  const chunk = message.chunk;
  const offset = Number(chunk?.offset ?? 0n);
  if (chunk === undefined || offset !== expectedOffset) {
    throw new AggregatorCallError('INTERNAL', status.INTERNAL, `an anchor set chunk at ${offset}, ${expectedOffset} expected`, FETCH);
  }
  return { offset, data: chunk.data, totalSize: Number(message.totalSize) };
}

/** The source's bytes re-cut into pieces of at most `max` bytes (views, no copy), pulled lazily. */
async function* pieces(source: AnchorSetUpload['bytes'], max: number): AsyncGenerator<Uint8Array> {
  if (!Number.isInteger(max) || max < 1) throw new RlsaError('invalid_argument', `chunkBytes must be a positive integer, got ${max}`);
  const parts = source instanceof Uint8Array ? [source] : source;
  for await (const part of parts) {
    for (let at = 0; at < part.byteLength; at += max) yield part.subarray(at, Math.min(part.byteLength, at + max));
  }
}

/** Resolves on 'drain' or once the call settled (then nothing more is written). */
function drainedOrSettled(stream: NodeJS.EventEmitter, settled: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      resolve();
    };
    stream.on('drain', done);
    void settled.then(done);
  });
}
