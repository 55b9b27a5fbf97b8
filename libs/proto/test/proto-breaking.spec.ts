import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const BUF = join(ROOT, 'node_modules/.bin/buf');
const BASELINE = join(ROOT, 'proto/rlsa-v2.binpb');

/** `buf breaking` of a copy of proto/ (edited by `edit`) against the committed baseline: its exit code and output. */
async function breakingOf(edit: (protoDir: string) => void): Promise<{ code: number; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'rlsa-proto-'));
  try {
    cpSync(join(ROOT, 'proto'), join(dir, 'proto'), { recursive: true });
    cpSync(join(ROOT, 'buf.yaml'), join(dir, 'buf.yaml'));
    edit(join(dir, 'proto'));
    const { stdout, stderr } = await promisify(execFile)(BUF, ['breaking', '--against', BASELINE], { cwd: dir });
    return { code: 0, out: stdout + stderr };
  } catch (error: unknown) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function editFile(path: string, from: string, to: string): void {
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${path} has no ${from}`);
  writeFileSync(path, text.replace(from, to));
}

describe('buf breaking against the committed rlsa.v2 baseline (proto/rlsa-v2.binpb)', () => {

  it('passes for proto/ as committed and for a compatible addition', async () => {
    expect(await breakingOf(() => undefined)).toMatchObject({ code: 0 });
    const added = await breakingOf((proto) => editFile(join(proto, 'rlsa/v2/aggregator.proto'), 'message EvaluateRequest {\n  string run_id = 1;\n', 'message EvaluateRequest {\n  string run_id = 1;\n  bool debiased_only = 2;\n'));
    expect(added).toMatchObject({ code: 0 });
  }, 60_000);

  it('fails for a change that breaks clients: a field type, a removed field, the id column back to 32-bit', async () => {
    const widened = await breakingOf((proto) => editFile(join(proto, 'rlsa/v2/aggregator.proto'), 'uint32 relative_width = 7;', 'uint64 relative_width = 7;'));
    expect(widened.code).not.toBe(0);
    expect(widened.out).toMatch(/relative_width.*changed type from "uint32" to "uint64"/);
    const removed = await breakingOf((proto) => editFile(join(proto, 'rlsa/v2/run.proto'), '  int64 last_seen_ms = 11;\n', ''));
    expect(removed.code).not.toBe(0);
    expect(removed.out).toMatch(/deleted.*last_seen_ms|last_seen_ms.*deleted|Previously present field "11"/);
    const narrowed = await breakingOf((proto) => editFile(join(proto, 'rlsa/v2/aggregator.proto'), '  bytes sample_ids = 5;', '  repeated uint32 sample_ids = 5;'));
    expect(narrowed.code).not.toBe(0);
  }, 60_000);
});
