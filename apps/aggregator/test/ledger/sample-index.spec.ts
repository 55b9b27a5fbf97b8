import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SampleIndex } from '../../src/ledger/sample-index.ts';

const low = (id: bigint): number => Number(id & 0xffffffffn);
const high = (id: bigint): number => Number(id >> 32n);

/** Operations on both the index and a Map (the reference): set, delete, get. */
type Op = { kind: 'set'; id: bigint; value: number } | { kind: 'delete'; id: bigint } | { kind: 'get'; id: bigint };

describe('SampleIndex', () => {
  it('behaves as a Map on random 64-bit keys under sets, overwrites, deletes (rollbacks) and gets', () => {
    // Keys from a small pool (so that overwrites, deletes of present keys and probe runs happen) and from anywhere in 2^64.
    const pool = fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: 1, maxLength: 64 });
    fc.assert(
      fc.property(pool, fc.array(fc.tuple(fc.constantFrom('set', 'delete', 'get'), fc.nat(), fc.nat({ max: 2 ** 31 })), { maxLength: 600 }), (keys, steps) => {
        const index = new SampleIndex();
        const reference = new Map<bigint, number>();
        const ops: Op[] = steps.map(([kind, k, value]) => ({ kind, id: keys[k % keys.length] as bigint, value }) as Op);
        for (const op of ops) {
          if (op.kind === 'set') {
            index.set(low(op.id), high(op.id), op.value);
            reference.set(op.id, op.value);
          } else if (op.kind === 'delete') {
            expect(index.delete(low(op.id), high(op.id))).toBe(reference.delete(op.id));
          } else {
            expect(index.get(low(op.id), high(op.id))).toBe(reference.get(op.id) ?? -1);
          }
          expect(index.size).toBe(reference.size);
        }
        for (const id of keys) {
          expect(index.get(low(id), high(id))).toBe(reference.get(id) ?? -1);
          expect(index.has(low(id), high(id))).toBe(reference.has(id));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every key reachable after many deletes inside long probe runs (consecutive built-in ids, growth, rollback of half)', () => {
    const index = new SampleIndex();
    const n = 50_000;
    for (let i = 0; i < n; i += 1) index.set(i, i % 3, i * 2);
    for (let i = 0; i < n; i += 2) expect(index.delete(i, i % 3)).toBe(true);
    expect(index.size).toBe(n / 2);
    for (let i = 0; i < n; i += 1) expect(index.get(i, i % 3)).toBe(i % 2 === 0 ? -1 : i * 2);
    expect(index.delete(0, 0)).toBe(false);
  });

  it('holds more entries than a Map can (2^24), in bounded memory per entry', () => {
    const n = 2 ** 24 + 1000;
    const index = new SampleIndex();
    index.reserve(n);
    const reserved = index.bytes;
    // Content-id-like keys: the high halves carry the entropy.
    for (let i = 0; i < n; i += 1) index.set(i, Math.imul(i, 0x9e3779b1) >>> 0, i);
    expect(index.size).toBe(n);
    // reserve() made room for all of them: no growth on the way.
    expect(index.bytes).toBe(reserved);
    expect(reserved / n).toBeLessThan(49);
    for (const i of [0, 1, 2 ** 24 - 1, 2 ** 24, n - 1]) expect(index.get(i, Math.imul(i, 0x9e3779b1) >>> 0)).toBe(i);
    expect(index.get(n, Math.imul(n, 0x9e3779b1) >>> 0)).toBe(-1);
  }, 120_000);

  it('refuses a reservation beyond its limit with RESOURCE_EXHAUSTED and stays as it was', () => {
    const index = new SampleIndex();
    index.set(1, 2, 3);
    expect(() => index.reserve(2 ** 31)).toThrow(expect.objectContaining({ code: 'resource_exhausted' }));
    expect(index.size).toBe(1);
    expect(index.get(1, 2)).toBe(3);
  });

  it('clearFor: empty afterwards, sized for the next input (a small one after a large one), and a set again as a Map is', () => {
    fc.assert(
      fc.property(fc.array(fc.uniqueArray(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 3000 }), { minLength: 1, maxLength: 6 }), (inputs) => {
        const index = new SampleIndex();
        for (const ids of inputs) {
          index.clearFor(ids.length);
          expect(index.size).toBe(0);
          // At most 70 % full and no larger than the smallest such power of two (16 at least) needs.
          expect(index.bytes).toBeLessThanOrEqual(17 * Math.max(16, 2 ** Math.ceil(Math.log2((ids.length * 10) / 7 + 1))));
          ids.forEach((id, i) => index.set(low(id), high(id), i));
          expect(index.size).toBe(ids.length);
          ids.forEach((id, i) => expect(index.get(low(id), high(id))).toBe(i));
        }
        const last = inputs[inputs.length - 1] as bigint[];
        for (const ids of inputs.slice(0, -1)) for (const id of ids) if (!last.includes(id)) expect(index.has(low(id), high(id))).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('indexes positions of an id column', () => {
    const words = new Uint32Array(BigUint64Array.from([2n ** 63n, 5n, 2n ** 53n + 1n]).buffer);
    const positions = SampleIndex.positions(words);
    expect([positions.get(0, 2 ** 31), positions.get(5, 0), positions.get(1, 2 ** 21), positions.get(6, 0)]).toEqual([0, 1, 2, -1]);
  });
});
