export { NpyError, type NpyErrorCode } from './npy-error.ts';
export { dtypeDescr, dtypeSize, parseDescr, type NpyData, type NpyDtype } from './dtype.ts';
export { formatHeader, parseHeader, type NpyHeader } from './header.ts';
export { decodeNpy, encodeNpy, parseNpyLayout, type NpyArray, type NpyLayout } from './codec.ts';
export { openNpy, type NpyRowReader } from './row-reader.ts';
export { readNpy, writeNpy } from './file.ts';
export { fromMatrix, readIntegers, readMatrix, toIntegers, toMatrix, type NpyMatrix } from './conversions.ts';
export { halfToNumber, numberToHalf } from './float16.ts';
