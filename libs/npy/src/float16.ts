// IEEE 754 binary16 ↔ number lives in the core (the client's matrix codec uses it too); NPY's names for it.
export { float16BitsToFloat32 as halfToNumber, float32ToFloat16Bits as numberToHalf } from '@rlsa/core';
