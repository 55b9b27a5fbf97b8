import { crc32 } from 'node:zlib';

/**
 * The checksum of stored records: CRC-32 (IEEE, zlib's, in Node since 20.15), continued from
 * `previous` over `bytes` (crc(a ++ b) = checksum(b, checksum(a))). Measured on this machine at
 * about 4.8 GB/s of CPU time: 0.2 ms per megabyte chunk, once when written (in the writer's thread)
 * and once per read.
 */
export function checksum(bytes: Uint8Array, previous = 0): number {
  return crc32(bytes, previous);
}
