export { RlsaError } from "./errors.ts";
export type { RlsaErrorCode } from "./errors.ts";
