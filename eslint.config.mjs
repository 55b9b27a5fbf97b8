import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Libraries no numeric code may import: the core stays pure (no I/O, logging, RPC or tfjs). */
const impureModules = [
  '@grpc/*',
  '@tensorflow/*',
  '@bufbuild/*',
  'pino',
  'pino-*',
  'better-sqlite3',
  'prom-client',
  'fs',
  'node:*',
  'child_process',
  'net',
  'http',
];

/** Which project may import which (by tag): the architecture's layers. */
const depConstraints = [
  { sourceTag: 'scope:core', onlyDependOnLibsWithTags: [], bannedExternalImports: impureModules },
  { sourceTag: 'scope:io', onlyDependOnLibsWithTags: ['scope:core'] },
  { sourceTag: 'scope:proto', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:core', 'scope:io'] },
  { sourceTag: 'scope:native', onlyDependOnLibsWithTags: ['scope:core'] },
  { sourceTag: 'scope:tfjs', onlyDependOnLibsWithTags: ['scope:core', 'scope:tfjs', 'scope:native'] },
  { sourceTag: 'scope:wire', onlyDependOnLibsWithTags: ['scope:core', 'scope:proto'] },
  { sourceTag: 'scope:client', onlyDependOnLibsWithTags: ['scope:core', 'scope:proto', 'scope:wire'] },
  { sourceTag: 'scope:charts', onlyDependOnLibsWithTags: ['scope:core'] },
  { sourceTag: 'scope:aggregator', onlyDependOnLibsWithTags: ['scope:core', 'scope:proto', 'scope:wire', 'scope:io', 'scope:native', 'scope:options', 'scope:charts', 'scope:sources'] },
  {
    sourceTag: 'scope:trainer',
    onlyDependOnLibsWithTags: ['scope:core', 'scope:proto', 'scope:wire', 'scope:io', 'scope:data', 'scope:tfjs', 'scope:native', 'scope:client', 'scope:options', 'scope:sources', 'scope:encoders'],
  },
  {
    sourceTag: 'scope:simulation',
    onlyDependOnLibsWithTags: [
      'scope:core',
      'scope:proto',
      'scope:wire',
      'scope:io',
      'scope:data',
      'scope:tfjs',
      'scope:native',
      'scope:client',
      'scope:trainer',
      'scope:aggregator',
      'scope:options',
      'scope:charts',
    ],
  },
  { sourceTag: 'scope:ops', onlyDependOnLibsWithTags: ['scope:core'] },
  { sourceTag: 'scope:options', onlyDependOnLibsWithTags: ['scope:core'] },
  { sourceTag: 'scope:sources', onlyDependOnLibsWithTags: ['scope:core', 'scope:io', 'scope:data'] },
  { sourceTag: 'scope:encoders', onlyDependOnLibsWithTags: ['scope:core', 'scope:io', 'scope:sources', 'scope:tfjs'] },
  { sourceTag: 'scope:cli', onlyDependOnLibsWithTags: ['*'] },
  // Outside the product: benchmarks, deployment tests, workspace scripts.
  { sourceTag: 'scope:bench', onlyDependOnLibsWithTags: ['*'] },
  { sourceTag: 'scope:deploy', onlyDependOnLibsWithTags: ['*'] },
  { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['*'] },
];

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'libs/proto/src/gen/**', 'runs/**', '.nx/**', 'coverage/**'],
  },
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name='it'][callee.property.name='only']", message: 'it.only left in a test' },
        { selector: "CallExpression[callee.object.name='describe'][callee.property.name='only']", message: 'describe.only left in a test' },
        { selector: "CallExpression[callee.object.name='test'][callee.property.name='only']", message: 'test.only left in a test' },
      ],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints,
        },
      ],
    },
  },
  {
    // Functions a reader can hold in their head: at most 80 lines (a factory's returned methods
    // count as part of the factory). The numeric libraries (rlsa-core, linalg-*, tfjs-kernels)
    // keep their long kernels, whose loops read best whole.
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['libs/rlsa-core/**', 'libs/linalg-*/**', 'libs/tfjs-kernels/**', 'libs/proto/src/gen/**'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false, IIFEs: true }] },
  },
  {
    // The aggregator's specs drive it through @rlsa/client as nodes do; its sources do not depend on the client.
    files: ['apps/aggregator/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // The trainer's specs run against a real aggregator process and wait for its readiness line.
    files: ['apps/trainer-node/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', { allow: ['@rlsa/aggregator'], depConstraints }] },
  },
  {
    // Specs of the core may read fixtures from disk; the core's sources may not.
    files: ['libs/rlsa-core/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
);
