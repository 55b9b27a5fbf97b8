import type { TopLevelSpec } from 'vega-lite';

/** One point of a 2-D view of a space. */
export interface ScatterPoint {
  readonly x: number;
  readonly y: number;
  /** Class label, shown as the colour; negative = unknown (shown as "unlabelled"). */
  readonly label: number;
}

/** Points whose label is unknown share this class name. */
export const UNLABELLED = 'unlabelled';

/**
 * Side-by-side scatter plots (one per panel) of 2-D PCA coordinates, coloured by class, for labels
 * 0 .. numClasses-1 (negative labels: "unlabelled").
 */
export function pcaSpec(panels: readonly { title: string; points: readonly ScatterPoint[] }[], numClasses: number, classNames?: readonly string[]): TopLevelSpec {
  // With a legend (≤ 20 classes) a class shows as "<label> <name>"; zero-padded so that it sorts by label.
  const width = String(numClasses - 1).length;
  const classOf = (label: number): string | number => {
    if (label < 0) return UNLABELLED;
    return numClasses <= 20 ? `${String(label).padStart(width, '0')}${classNames?.[label] ? ` ${classNames[label]}` : ''}` : label;
  };
  const scheme = numClasses <= 10 ? 'tableau10' : numClasses <= 20 ? 'tableau20' : 'rainbow';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    hconcat: panels.map((panel) => ({
      title: panel.title,
      width: 260,
      height: 260,
      data: { values: panel.points.map((p) => ({ pc1: p.x, pc2: p.y, class: classOf(p.label) })) },
      mark: { type: 'circle', size: 12, opacity: 0.6 },
      encoding: {
        x: { field: 'pc1', type: 'quantitative', title: 'PC 1', scale: { zero: false } },
        y: { field: 'pc2', type: 'quantitative', title: 'PC 2', scale: { zero: false } },
        color: {
          field: 'class',
          type: 'nominal',
          scale: { scheme },
          legend: numClasses <= 20 ? { title: 'class' } : null,
        },
      },
    })),
    resolve: { scale: { color: 'shared' } },
    config: { view: { stroke: '#ccc' } },
  } as TopLevelSpec;
}
