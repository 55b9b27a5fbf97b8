import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{apps,libs}/*/test/**/*.spec.ts', '{deploy,scripts,examples}/test/**/*.spec.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
