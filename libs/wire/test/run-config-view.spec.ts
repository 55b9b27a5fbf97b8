import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { RunConfigSchema } from '@rlsa/proto';
import { describe, expect, it } from 'vitest';
import { anchorCount, runConfigMessage, runConfigView } from '../src/run-config-view.ts';
import type { RunConfigInput } from '../src/run-config-view.ts';

/** A config through its wire form and back into plain values. */
const roundTrip = (input: RunConfigInput) => runConfigView(fromBinary(RunConfigSchema, toBinary(RunConfigSchema, runConfigMessage(input))));

describe('run config views (rlsa.v2.RunConfig)', () => {
  it('carries built-in anchors (32-bit ids given, 64-bit kept exactly) with every field and the defaults filled in', () => {
    const view = roundTrip({
      runId: 'r',
      anchors: { kind: 'builtin', dataset: 'cifar100', sampleIds: Uint32Array.of(5, 4_000_000_000), fingerprint: 'ab'.repeat(32) },
      acceptedEncodings: ['int8'],
      quotas: { maxSamples: 2 ** 40 },
      nodeRead: 'none',
    });
    expect(view).toEqual({
      runId: 'r',
      anchors: { kind: 'builtin', dataset: 'cifar100', sampleIds: [5n, 4_000_000_000n], fingerprint: 'ab'.repeat(32) },
      similarity: 'cosine',
      acceptedEncodings: ['int8'],
      center: false,
      allowAbsolute: false,
      nodeRead: 'none',
      quotas: { maxSamples: 2 ** 40, maxBytes: 0, maxNodeSamples: 0, maxNodeBytes: 0 },
    });
    expect(anchorCount(view.anchors)).toBe(2);
    const wide = roundTrip({ runId: 'r', anchors: { kind: 'builtin', dataset: 'x', sampleIds: [2n ** 64n - 1n, 2n ** 53n + 1n], fingerprint: 'f' } });
    expect(wide.anchors).toMatchObject({ sampleIds: [2n ** 64n - 1n, 2n ** 53n + 1n] });
  });

  it('carries an anchor set by fingerprint and summary; its relative width is the summary count', () => {
    const summary = { size: 123_456, count: 300, kind: 'array' as const, shape: [32, 32, 3], dtype: 'float32' as const, hasLabels: true, hasNames: true };
    const view = roundTrip({ runId: 'r', anchors: { kind: 'anchor-set', fingerprint: 'cd'.repeat(32), summary } });
    expect(view.anchors).toEqual({ kind: 'anchor-set', fingerprint: 'cd'.repeat(32), summary });
    expect(anchorCount(view.anchors)).toBe(300);
    const { dtype, ...untyped } = summary;
    expect(dtype).toBe('float32');
    const images = roundTrip({ runId: 'r', anchors: { kind: 'anchor-set', fingerprint: 'cd'.repeat(32), summary: { ...untyped, kind: 'images', shape: [] } } });
    expect(images.anchors).toMatchObject({ summary: { kind: 'images', shape: [] } });
    expect('dtype' in (images.anchors.kind === 'anchor-set' ? images.anchors.summary : {})).toBe(false);
  });

  it('refuses a config without anchors, an unknown anchor kind, and quotas that are not counts', () => {
    expect(() => runConfigView(create(RunConfigSchema, { runId: 'r' }))).toThrow(expect.objectContaining({ code: 'invalid_argument', message: expect.stringMatching(/needs anchors/) }));
    const unknownKind = create(RunConfigSchema, { runId: 'r', anchors: { fingerprint: 'f', source: { case: 'anchorSet', value: { size: 1n, count: 1, kind: 7 as never } } } });
    expect(() => runConfigView(unknownKind)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    const anchors = { kind: 'builtin' as const, dataset: 'x', sampleIds: [1n], fingerprint: 'f' };
    for (const bad of [-1, 1.5, Number.NaN]) expect(() => runConfigMessage({ runId: 'r', anchors, quotas: { maxBytes: bad } })).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
