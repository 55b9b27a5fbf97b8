import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { SegmentRow } from './schema.ts';

/** The folder of the segment files, inside the data dir. */
export const SEGMENTS_DIR = 'segments';

/** A segment holds at most this much (a larger single record gets a segment of its own). */
export const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;

/** A segment's path relative to the data dir: one folder per run (run ids match ID_PATTERN: safe as a file name). */
export function segmentPath(runId: string, segmentId: number): string {
  return join(SEGMENTS_DIR, runId, `${String(segmentId).padStart(8, '0')}.seg`);
}

/** A run's folder of segment files, relative to the data dir. */
export function runSegmentsDir(runId: string): string {
  return join(SEGMENTS_DIR, runId);
}

/** What tidying the segment files at start did. */
export interface SegmentTidy {
  /** Bytes cut from the end of segments (records written, whose index row never committed). */
  truncatedBytes: number;
  /** Files no segment row names (a new segment whose first commit failed, a deleted run's leftovers). */
  removedFiles: string[];
  /** Segment rows whose file is missing (their chunks will read as damaged). */
  missingFiles: string[];
}

/**
 * Makes the segment files agree with the index before anything is written: a segment longer than
 * what the index references is cut back (a crash between a record's write and its index commit
 * leaves such a tail: never acknowledged, so nothing is lost), and files the index does not name
 * are removed. Runs at start, before the writer thread opens any segment.
 */
export function tidySegments(dataDir: string, segments: readonly SegmentRow[]): SegmentTidy {
  const tidy: SegmentTidy = { truncatedBytes: 0, removedFiles: [], missingFiles: [] };
  const known = new Set<string>();
  for (const segment of segments) {
    known.add(segment.path);
    const file = join(dataDir, segment.path);
    if (!existsSync(file)) {
      if (segment.referencedBytes > 0) tidy.missingFiles.push(segment.path);
      continue;
    }
    const fd = openSync(file, 'r+');
    try {
      const size = fstatSync(fd).size;
      if (size > segment.referencedBytes) {
        ftruncateSync(fd, segment.referencedBytes);
        tidy.truncatedBytes += size - segment.referencedBytes;
      }
    } finally {
      closeSync(fd);
    }
  }
  const root = join(dataDir, SEGMENTS_DIR);
  for (const file of listFiles(root)) {
    const path = relative(dataDir, file);
    if (known.has(path)) continue;
    rmSync(file, { force: true });
    tidy.removedFiles.push(path);
  }
  removeEmptyDirs(root);
  return tidy;
}

/** Every file under `dir`, recursively (none when it does not exist). */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

function removeEmptyDirs(root: string): void {
  if (!existsSync(root)) return;
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(root, entry.name);
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  }
}
