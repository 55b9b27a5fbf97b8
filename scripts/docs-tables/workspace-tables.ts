import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DocsTableError } from './docs-table-error.ts';
import { markdownTable } from './markdown-table.ts';

/** What a project's nx configuration says (package.json "nx" section or project.json). */
interface ProjectConfig {
  readonly name: string;
  readonly root: string;
  readonly tags: readonly string[];
  readonly targets: readonly string[];
}

interface DepConstraint {
  readonly sourceTag: string;
  readonly onlyDependOnLibsWithTags: readonly string[];
}

/** The projects under apps/, libs/ and the top-level folders that have a project.json. */
function readProjects(root: string): ProjectConfig[] {
  const projects: ProjectConfig[] = [];
  for (const group of ['apps', 'libs']) {
    for (const dir of readdirSync(join(root, group)).sort()) {
      const manifest = join(root, group, dir, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; nx?: { tags?: string[]; targets?: Record<string, unknown> } };
      projects.push({ name: pkg.name, root: `${group}/${dir}`, tags: pkg.nx?.tags ?? [], targets: Object.keys(pkg.nx?.targets ?? {}) });
    }
  }
  for (const dir of readdirSync(root).sort()) {
    const file = join(root, dir, 'project.json');
    if (!existsSync(file)) continue;
    const project = JSON.parse(readFileSync(file, 'utf8')) as { name: string; tags?: string[]; targets?: Record<string, unknown> };
    projects.push({ name: project.name, root: dir, tags: project.tags ?? [], targets: Object.keys(project.targets ?? {}) });
  }
  return projects;
}

/** The `@nx/enforce-module-boundaries` constraints of the repository's eslint.config.mjs. */
async function readConstraints(root: string): Promise<DepConstraint[]> {
  const config = (await import(pathToFileURL(join(root, 'eslint.config.mjs')).href)) as { default: readonly { rules?: Record<string, unknown> }[] };
  for (const entry of config.default) {
    const rule = entry.rules?.['@nx/enforce-module-boundaries'];
    if (Array.isArray(rule) && rule[1] !== undefined) return (rule[1] as { depConstraints: DepConstraint[] }).depConstraints;
  }
  throw new DocsTableError('bad_source', `${relative(process.cwd(), join(root, 'eslint.config.mjs'))}: no @nx/enforce-module-boundaries constraints`);
}

/**
 * The workspace's projects: path, boundary tag, the tags it may import (from eslint.config.mjs) and
 * its Nx targets. `root` is the repository root.
 */
export async function workspaceProjects(root: string): Promise<string> {
  if (!existsSync(join(root, 'eslint.config.mjs'))) throw new DocsTableError('bad_source', `${root}: not the repository root (no eslint.config.mjs)`);
  const constraints = await readConstraints(root);
  const rows = readProjects(root).map((project) => {
    const allowed = constraints
      .filter((c) => project.tags.includes(c.sourceTag))
      .flatMap((c) => (c.onlyDependOnLibsWithTags.length === 0 ? ['nothing'] : c.onlyDependOnLibsWithTags.map((tag) => (tag === '*' ? 'any' : tag.replace(/^scope:/, '')))));
    return [
      `\`${project.name}\``,
      `\`${project.root}\``,
      project.tags.map((tag) => tag.replace(/^scope:/, '')).join(', '),
      allowed.join(', ') || '–',
      project.targets.join(', '),
    ];
  });
  return markdownTable(['project', 'path', 'tag (scope:)', 'may import projects tagged', 'Nx targets'], rows);
}
