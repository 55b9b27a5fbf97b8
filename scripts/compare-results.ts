// Compares two simulation results.json files on what a change must not move: every CKA and every
// space's probe accuracy, nearest-centroid accuracy and separability, to 1e-6 (the main job's bar).
//   npx tsx scripts/compare-results.ts BASELINE.json NEW.json
// Prints each number side by side; exit status 1 when one differs by more than the tolerance.
import { readFileSync } from 'node:fs';

const TOLERANCE = 1e-6;

interface Results {
  cka: Record<string, unknown> & { nodes_vs_reference: { node_id: string; linear: number; linear_debiased: number }[] };
  spaces: { name: string; probe_accuracy: number | null; nearest_centroid_accuracy: number | null; separability: number | null }[];
}

function numbers(results: Results): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const [key, value] of Object.entries(results.cka)) {
    if (value !== null && typeof value === 'object' && 'linear' in value) {
      const cka = value as { linear: number; linear_debiased: number };
      out.set(`cka.${key}.linear`, cka.linear);
      out.set(`cka.${key}.linear_debiased`, cka.linear_debiased);
    }
  }
  for (const node of results.cka.nodes_vs_reference) out.set(`cka.nodes_vs_reference.${node.node_id}.linear`, node.linear);
  for (const space of results.spaces) {
    out.set(`${space.name}.probe_accuracy`, space.probe_accuracy);
    out.set(`${space.name}.nearest_centroid_accuracy`, space.nearest_centroid_accuracy);
    out.set(`${space.name}.separability`, space.separability);
  }
  return out;
}

const [baselinePath, newPath] = process.argv.slice(2);
if (baselinePath === undefined || newPath === undefined) {
  process.stderr.write('usage: tsx scripts/compare-results.ts BASELINE.json NEW.json\n');
  process.exit(2);
}
const read = (path: string): Results => JSON.parse(readFileSync(path, 'utf8')) as Results;
const [before, after] = [numbers(read(baselinePath)), numbers(read(newPath))];
let worst = 0;
for (const [name, a] of before) {
  const b = after.get(name);
  const difference = a === null || b === null || b === undefined ? (a === b ? 0 : Number.POSITIVE_INFINITY) : Math.abs(a - b);
  worst = Math.max(worst, difference);
  process.stdout.write(`${name.padEnd(55)} ${String(a).padEnd(22)} ${String(b).padEnd(22)} ${difference <= TOLERANCE ? 'ok' : `DIFFERS by ${difference}`}\n`);
}
process.stdout.write(`largest difference ${worst} (tolerance ${TOLERANCE})\n`);
process.exit(worst <= TOLERANCE ? 0 : 1);
