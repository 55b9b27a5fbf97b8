import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `npm test` runs each project's `test` target (`vitest run <root>/test/`): a package whose
 * specs exist but whose project declares no test target would silently drop out of CI. Every
 * project must also declare typecheck and lint.
 */
const root = join(import.meta.dirname, '..', '..');

interface Project {
  readonly root: string;
  readonly targets: Record<string, unknown>;
}

function projectAt(dir: string): Project | undefined {
  const projectJson = join(root, dir, 'project.json');
  if (existsSync(projectJson)) return { root: dir, targets: (JSON.parse(readFileSync(projectJson, 'utf8')) as { targets?: Record<string, unknown> }).targets ?? {} };
  const packageJson = join(root, dir, 'package.json');
  if (existsSync(packageJson)) {
    const nx = (JSON.parse(readFileSync(packageJson, 'utf8')) as { nx?: { targets?: Record<string, unknown> } }).nx;
    if (nx !== undefined) return { root: dir, targets: nx.targets ?? {} };
  }
  return undefined;
}

function specFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...specFiles(path));
    else if (entry.name.endsWith('.spec.ts')) out.push(relative(root, path));
  }
  return out;
}

const projectDirs = ['apps', 'libs'].flatMap((group) => readdirSync(join(root, group)).map((name) => `${group}/${name}`)).concat(['deploy', 'bench', 'scripts', 'examples']);
const projects = projectDirs.map(projectAt).filter((p): p is Project => p !== undefined);

describe('the workspace', () => {
  it('gives every package a project with test, typecheck and lint targets', () => {
    const missing = projects.flatMap((p) => ['typecheck', 'lint'].filter((t) => !(t in p.targets)).map((t) => `${p.root}: ${t}`));
    expect(missing).toEqual([]);
    expect(projects.map((p) => p.root).sort()).toEqual(projectDirs.filter((d) => existsSync(join(root, d, 'package.json')) || existsSync(join(root, d, 'project.json'))).sort());
  });

  it('runs every spec file through a project test target over its test/ folder', () => {
    const specs = projectDirs.flatMap((dir) => (existsSync(join(root, dir)) ? specFiles(join(root, dir)) : []));
    expect(specs.length).toBeGreaterThan(80);
    const orphans = specs.filter((spec) => {
      const project = projects.find((p) => spec.startsWith(`${p.root}/`));
      return project === undefined || !('test' in project.targets) || !spec.startsWith(`${project.root}/test/`);
    });
    expect(orphans).toEqual([]);
  });
});
