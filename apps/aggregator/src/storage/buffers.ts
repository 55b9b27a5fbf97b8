/** Copies a (possibly unaligned) byte buffer into a fresh Uint32Array (little-endian platform). */
export function uint32FromBytes(bytes: Uint8Array): Uint32Array {
  const out = new Uint32Array(bytes.byteLength >>> 2);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  return out;
}

/** Copies a (possibly unaligned) byte buffer into a fresh Int32Array (little-endian platform). */
export function int32FromBytes(bytes: Uint8Array): Int32Array {
  const out = new Int32Array(bytes.byteLength >>> 2);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  return out;
}

/** A Buffer view (no copy) of a typed array's bytes. */
export function bytesOf(array: ArrayBufferView): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}
