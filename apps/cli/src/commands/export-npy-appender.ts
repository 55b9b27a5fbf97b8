import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { formatHeader } from '@rlsa/npy';

/**
 * Bytes before the data of every file an export writes: NPY 1.0's preamble (magic, version, header
 * length) and a header padded with spaces, room enough for any row count (NumPy reads any header
 * length that keeps the data 64-byte aligned; 128 does).
 */
export const EXPORT_HEADER_BYTES = 128;

/**
 * An NPY file written a row at a time, so that an export holds one batch in memory whatever the
 * run's size: its header is written first with 0 rows (the file is not yet a valid array) and
 * rewritten with the row count when the export completes. Reopened, it continues after its last
 * whole row (`rows`); a row cut short by an interruption is dropped.
 */
export class NpyAppender {
  private readonly fd: number;
  /** Whole rows in the file. */
  rows: number;

  constructor(
    readonly path: string,
    private readonly descr: string,
    private readonly rowShape: readonly number[],
    private readonly rowBytes: number,
    resume: boolean,
  ) {
    this.fd = openSync(path, resume ? 'r+' : 'w');
    const size = fstatSync(this.fd).size;
    if (!resume || size < EXPORT_HEADER_BYTES) {
      ftruncateSync(this.fd, 0);
      this.writeHeader(0);
      this.rows = 0;
    } else {
      this.rows = Math.floor((size - EXPORT_HEADER_BYTES) / rowBytes);
    }
  }

  /** Cuts the file to its first `rows` rows (all the files of an export continue from the same row). */
  truncate(rows: number): void {
    if (rows > this.rows) throw new Error(`${this.path} holds ${this.rows} rows, not ${rows}`);
    ftruncateSync(this.fd, EXPORT_HEADER_BYTES + rows * this.rowBytes);
    this.rows = rows;
  }

  /** Appends whole rows (their bytes, little-endian C order). */
  append(bytes: Uint8Array): void {
    if (bytes.byteLength % this.rowBytes !== 0) throw new Error(`${this.path}: ${bytes.byteLength} bytes are not whole rows of ${this.rowBytes}`);
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(this.fd, bytes, done, bytes.byteLength - done, EXPORT_HEADER_BYTES + this.rows * this.rowBytes + done);
    this.rows += bytes.byteLength / this.rowBytes;
  }

  /** Row `row`'s bytes (to resume after the last row written). */
  readRow(row: number): Uint8Array {
    const bytes = new Uint8Array(this.rowBytes);
    readSync(this.fd, bytes, 0, this.rowBytes, EXPORT_HEADER_BYTES + row * this.rowBytes);
    return bytes;
  }

  /** Writes the header with the row count: the file is now a valid NPY array. */
  finish(): void {
    this.writeHeader(this.rows);
  }

  close(): void {
    closeSync(this.fd);
  }

  private writeHeader(rows: number): void {
    const text = formatHeader({ descr: this.descr, fortranOrder: false, shape: [rows, ...this.rowShape] });
    const padded = text.padEnd(EXPORT_HEADER_BYTES - 10 - 1, ' ') + '\n';
    if (padded.length !== EXPORT_HEADER_BYTES - 10) throw new Error(`${this.path}: an NPY header of ${text.length} characters does not fit in ${EXPORT_HEADER_BYTES} bytes`);
    const header = Buffer.alloc(EXPORT_HEADER_BYTES);
    header.write('\x93NUMPY', 0, 'latin1');
    header[6] = 1;
    header[7] = 0;
    header.writeUInt16LE(EXPORT_HEADER_BYTES - 10, 8);
    header.write(padded, 10, 'latin1');
    writeSync(this.fd, header, 0, header.length, 0);
  }
}
