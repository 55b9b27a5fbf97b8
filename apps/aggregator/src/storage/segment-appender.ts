import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, mkdirSync, openSync, rmSync, writeSync, writevSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeRecord } from './chunk-record.ts';
import type { ChunkRow, SegmentRow } from './schema.ts';
import { MAX_SEGMENT_BYTES, segmentPath } from './segment-files.ts';

/** Where a record went: what the chunk's index row records. */
export interface Placement {
  segmentId: number;
  offset: number;
  length: number;
  checksum: number;
}

/** A segment created in the current batch: its row is inserted in the batch's transaction. */
export interface NewSegment {
  segmentId: number;
  runId: string;
  path: string;
}

interface OpenSegment {
  segmentId: number;
  runId: string;
  path: string;
  fd: number;
  /** Where the next record goes: the end of what the index references (after this batch, if it commits). */
  end: number;
}

/** What the appender needs of the index: each run's last segment, and the next segment id. */
export interface SegmentLookup {
  lastSegment(runId: string): SegmentRow | undefined;
  nextSegmentId(): number;
}

/**
 * Appends chunk records to per-run segment files, in the writer thread, one batch at a time:
 * `append` each chunk of the batch (positional writes at the end the index references), `sync`
 * when the durability is `full`, commit the index rows (with `created` segments), then `settle`;
 * or `rollback` when anything failed, which moves each end back to where the batch started and
 * cuts the files there, so a failed batch leaves nothing behind (and, were the cut to fail, only
 * an unreferenced tail that the next batch overwrites and the start-up tidy removes).
 */
export class SegmentAppender {
  private readonly open = new Map<string, OpenSegment>();
  /** Ends at the start of the batch, for the rollback. */
  private readonly marks = new Map<OpenSegment, number>();
  private created: NewSegment[] = [];
  /** Segments the batch rotated away from: closed once it settles, reopened if it rolls back. */
  private retired: OpenSegment[] = [];
  private nextId: number;

  constructor(
    private readonly dataDir: string,
    private readonly lookup: SegmentLookup,
    private readonly maxSegmentBytes = MAX_SEGMENT_BYTES,
  ) {
    this.nextId = lookup.nextSegmentId();
  }

  /** Writes `row`'s record at the end of its run's segment (a new segment when it would pass the size cap). */
  append(row: ChunkRow): Placement {
    const record = encodeRecord(row);
    let segment = this.segmentOf(row.runId);
    if (segment.end > 0 && segment.end + record.bytes > this.maxSegmentBytes) segment = this.startSegment(row.runId);
    if (!this.marks.has(segment)) this.marks.set(segment, segment.end);
    const offset = segment.end;
    writeAllAt(segment.fd, record.parts, offset);
    segment.end += record.bytes;
    return { segmentId: segment.segmentId, offset, length: record.bytes, checksum: record.checksum };
  }

  /** Segments created in this batch (their rows go in with the batch's index rows). */
  get newSegments(): readonly NewSegment[] {
    return this.created;
  }

  /** `full` durability: the batch's records (and new files' directory entries) reach the disk before the index commit. */
  sync(): void {
    for (const segment of this.marks.keys()) fdatasyncSync(segment.fd);
    if (this.created.length === 0) return;
    // A new file's name lives in its run's folder, which may be new too (in segments/, in the data dir).
    const dirs = new Set<string>([this.dataDir]);
    for (const segment of this.created) {
      const runDir = dirname(join(this.dataDir, segment.path));
      dirs.add(runDir).add(dirname(runDir));
    }
    for (const dir of dirs) syncDir(dir);
  }

  /** The batch's index rows committed. */
  settle(): void {
    for (const segment of this.retired) closeSync(segment.fd);
    this.retired = [];
    this.marks.clear();
    this.created = [];
  }

  /** The batch failed: ends move back, files are cut, new segments are removed. Never throws. */
  rollback(): void {
    for (const [segment, mark] of this.marks) {
      segment.end = mark;
      try {
        ftruncateSync(segment.fd, mark);
      } catch {
        // The tail stays unreferenced: overwritten by the next append, cut at the next start.
      }
    }
    for (const created of this.created) {
      if (this.open.get(created.runId)?.segmentId === created.segmentId) this.forget(created.runId);
      rmSync(join(this.dataDir, created.path), { force: true });
    }
    for (const segment of this.retired) this.open.set(segment.runId, segment);
    this.retired = [];
    this.marks.clear();
    this.created = [];
  }

  /** Closes a run's segment (before the run's files are deleted). */
  closeRun(runId: string): void {
    this.forget(runId);
  }

  closeAll(): void {
    for (const runId of [...this.open.keys()]) this.forget(runId);
  }

  private forget(runId: string): void {
    const segment = this.open.get(runId);
    if (segment === undefined) return;
    this.open.delete(runId);
    this.marks.delete(segment);
    closeSync(segment.fd);
  }

  /** The run's open segment: the last one the index names (appended at its referenced end), or a new one. */
  private segmentOf(runId: string): OpenSegment {
    const open = this.open.get(runId);
    if (open !== undefined) return open;
    const last = this.lookup.lastSegment(runId);
    if (last === undefined) return this.startSegment(runId);
    let fd: number;
    try {
      fd = openSync(join(this.dataDir, last.path), 'r+');
    } catch {
      // Its file is gone (its chunks read as damaged): later chunks go to a new segment.
      return this.startSegment(runId);
    }
    const segment: OpenSegment = { segmentId: last.segmentId, runId, path: last.path, fd, end: last.referencedBytes };
    this.open.set(runId, segment);
    return segment;
  }

  private startSegment(runId: string): OpenSegment {
    const previous = this.open.get(runId);
    if (previous !== undefined && this.marks.has(previous)) {
      this.open.delete(runId);
      this.retired.push(previous);
    } else this.forget(runId);
    const segmentId = this.nextId++;
    const path = segmentPath(runId, segmentId);
    const file = join(this.dataDir, path);
    mkdirSync(dirname(file), { recursive: true });
    // 'w': a file of this name can only be a leftover no index row names.
    const segment: OpenSegment = { segmentId, runId, path, fd: openSync(file, 'w'), end: 0 };
    this.open.set(runId, segment);
    this.created.push({ segmentId, runId, path });
    return segment;
  }
}

/** Writes every part at `position`, going on after a short write (a short write before ENOSPC is what a filling disk gives). */
function writeAllAt(fd: number, parts: Uint8Array[], position: number): void {
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  let written = writevSync(fd, parts, position);
  if (written === total) return;
  let offset = 0;
  for (const part of parts) {
    const end = offset + part.byteLength;
    while (written < end) {
      const from = written - offset;
      written += writeSync(fd, part, from, part.byteLength - from, position + written);
    }
    offset = end;
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
