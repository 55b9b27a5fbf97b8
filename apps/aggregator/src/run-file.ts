import type { Similarity } from '@rlsa/core';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { RunConfig } from '@rlsa/proto';
import { runConfigMessage, type EncodingName, type RunConfigInput } from '@rlsa/wire';
import { AggregatorError } from './errors.ts';

function parseFile(path: string, what: string): unknown {
  try {
    return YAML.parse(readFileSync(path, 'utf8'));
  } catch (error: unknown) {
    throw new AggregatorError('failed_precondition', `cannot read ${what} ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** One run of a run file as the client's input, or why not. */
function runInput(entry: unknown, where: string): RunConfigInput {
  const e = (entry ?? {}) as Record<string, unknown>;
  if (typeof e['runId'] !== 'string') throw new AggregatorError('failed_precondition', `${where}: runId must be a string`);
  if (!Array.isArray(e['anchorIds']) || !e['anchorIds'].every((id) => Number.isSafeInteger(id) && id >= 0)) {
    throw new AggregatorError('failed_precondition', `${where}: anchorIds must be a list of sample ids`);
  }
  if (typeof e['anchorFingerprint'] !== 'string') throw new AggregatorError('failed_precondition', `${where}: anchorFingerprint must be a string`);
  if (e['dataset'] !== undefined && typeof e['dataset'] !== 'string') throw new AggregatorError('failed_precondition', `${where}: dataset must name the built-in data set of the anchor ids`);
  return {
    runId: e['runId'],
    anchors: { kind: 'builtin', dataset: e['dataset'] ?? '', sampleIds: (e['anchorIds'] as number[]).map(BigInt), fingerprint: e['anchorFingerprint'] },
    ...(e['similarity'] !== undefined ? { similarity: e['similarity'] as Similarity } : {}),
    ...(e['acceptedEncodings'] !== undefined ? { acceptedEncodings: e['acceptedEncodings'] as EncodingName[] } : {}),
    ...(e['allowAbsolute'] !== undefined ? { allowAbsolute: e['allowAbsolute'] === true } : {}),
    ...(e['center'] !== undefined ? { center: e['center'] === true } : {}),
  };
}

/**
 * Reads a run file (YAML or JSON): one run `{ runId, dataset?, anchorIds, anchorFingerprint,
 * similarity?, acceptedEncodings?, allowAbsolute?, center? }` (anchors: samples of the built-in
 * data set `dataset`, unnamed when absent), a list of them, or `{ runs: [...] }`.
 */
export async function loadRunFile(path: string): Promise<RunConfig[]> {
  const parsed = parseFile(path, 'run file');
  const list: unknown[] = Array.isArray(parsed) ? parsed : Array.isArray((parsed as { runs?: unknown })?.runs) ? (parsed as { runs: unknown[] }).runs : [parsed];
  return list.map((entry, i) => {
    const where = `run file ${path}${list.length > 1 ? ` (run ${i})` : ''}`;
    const input = runInput(entry, where);
    try {
      return runConfigMessage(input);
    } catch (error: unknown) {
      throw new AggregatorError('failed_precondition', `${where}: ${(error as Error).message}`, { cause: error });
    }
  });
}
