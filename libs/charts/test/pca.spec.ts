import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pca2 } from '../src/pca.ts';

/** Reference values from NumPy: libs/charts/test/fixtures/make_fixtures.py. */
const fixture = JSON.parse(readFileSync(new URL('./fixtures/pca-fixture.json', import.meta.url), 'utf8')) as {
  x: number[][];
  components: number[][];
  explained: number[];
  coords: number[][];
};

describe('pca2', () => {
  it("matches NumPy's SVD: components, explained variance and projections (8 digits)", () => {
    const { x, components, explained, coords } = fixture;
    const m = { rows: x.length, cols: x[0]!.length, data: Float64Array.from(x.flat()) };
    const before = Array.from(m.data);
    const p = pca2(m, { iterations: 2000, tolerance: 1e-20 });
    for (let k = 0; k < 2; k++) {
      components[k]!.forEach((v, j) => expect(p.components[k]![j]).toBeCloseTo(v, 8));
      expect(p.explained[k]).toBeCloseTo(explained[k]!, 8);
    }
    coords.forEach((row, i) => {
      expect(p.coords[2 * i]).toBeCloseTo(row[0]!, 7);
      expect(p.coords[2 * i + 1]).toBeCloseTo(row[1]!, 7);
    });
    expect(Array.from(m.data)).toEqual(before);
  });

  it('gives orthonormal components and is unchanged by a shift of every row', () => {
    const { x } = fixture;
    const m = { rows: x.length, cols: x[0]!.length, data: Float64Array.from(x.flat()) };
    const shifted = { ...m, data: m.data.map((v, t) => v + 10 * ((t % m.cols) + 1)) };
    const a = pca2(m);
    const b = pca2(shifted);
    const dot = (u: Float64Array, v: Float64Array) => u.reduce((s, ui, j) => s + ui * v[j]!, 0);
    expect(dot(a.components[0], a.components[0])).toBeCloseTo(1, 10);
    expect(dot(a.components[1], a.components[1])).toBeCloseTo(1, 10);
    expect(dot(a.components[0], a.components[1])).toBeCloseTo(0, 8);
    a.coords.forEach((v, t) => expect(b.coords[t]).toBeCloseTo(v, 6));
  });

  it('handles a rank-one space: all variance on the first component', () => {
    const data = new Float64Array(20 * 3);
    for (let i = 0; i < 20; i++) [1, -2, 0.5].forEach((v, j) => (data[i * 3 + j] = i * v));
    const p = pca2({ rows: 20, cols: 3, data });
    expect(p.explained[0]).toBeCloseTo(1, 10);
    expect(p.explained[1]).toBeCloseTo(0, 10);
  });
});
