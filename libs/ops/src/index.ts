export { OpsError, type OpsErrorCode } from './ops-error.ts';
export { assertSafeName } from './names.ts';
export {
  CA_CERT_FILE,
  CA_KEY_FILE,
  DEFAULT_CA_DAYS,
  DEFAULT_LEAF_DAYS,
  initCa,
  issueCertificate,
  readSubjectAltNames,
  subjectAltName,
  type IssueOptions,
  type IssuedFiles,
} from './pki.ts';
export { runOpenssl } from './openssl.ts';
export {
  addToken,
  DEFAULT_GRANTS,
  generateToken,
  hashToken,
  readTokensFile,
  removeTokens,
  setGrants,
  writeTokensFile,
  type AddTokenOptions,
  type Grant,
  type TokenEntry,
} from './tokens.ts';
export { backupDatabase, restoreDatabase, summarizeDatabase, DATABASE_FILE, SEGMENTS_DIR, type DatabaseSummary } from './backup.ts';
export type { DamagedChunk } from './backup-segments.ts';
