import { benchAggregator, benchCore } from './bench-tables.ts';
import { benchEmbed } from './embed-tables.ts';
import { paperPublished } from './paper-tables.ts';
import { simulationCka, simulationNodes, simulationSpaces, simulationTimings } from './simulation-tables.ts';
import { studyRows, studySeeds } from './study-tables.ts';
import { benchTrain, benchTrainKernels } from './train-tables.ts';
import { workspaceProjects } from './workspace-tables.ts';

/** A kind of generated table: what it reads and how it renders (Markdown, from one source path). */
export interface TableKind {
  /** What SOURCE must be. */
  readonly source: string;
  readonly render: (source: string) => string | Promise<string>;
}

/** Every table kind a document may name in `<!-- table:KIND SOURCE -->`. */
export const TABLES = {
  'simulation-nodes': { source: 'results.json of rlsa simulate', render: simulationNodes },
  'simulation-cka': { source: 'results.json of rlsa simulate', render: simulationCka },
  'simulation-spaces': { source: 'results.json of rlsa simulate', render: simulationSpaces },
  'simulation-timings': { source: 'results.json of rlsa simulate', render: simulationTimings },
  'study-rows': { source: 'study.json of rlsa study', render: studyRows },
  'study-seeds': { source: 'study.json of rlsa study seeds', render: studySeeds },
  'paper-published': { source: "the paper's results directory (apps/simulation/paper-results)", render: paperPublished },
  'bench-core': { source: 'the JSON of npm run bench:core', render: benchCore },
  'bench-aggregator': { source: 'the JSON of npm run bench:aggregator', render: benchAggregator },
  'bench-train': { source: 'the JSON of npm run bench:train', render: benchTrain },
  'bench-train-kernels': { source: 'the JSON of npm run bench:train', render: benchTrainKernels },
  'bench-embed': { source: 'the JSON of npm run bench:embed', render: benchEmbed },
  'workspace-projects': { source: 'the repository root (package.json and project.json files, eslint.config.mjs)', render: workspaceProjects },
} as const satisfies Record<string, TableKind>;

export type TableName = keyof typeof TABLES;

export function isTableName(name: string): name is TableName {
  return Object.hasOwn(TABLES, name);
}
