/**
 * Install step of @rlsa/linalg-native: compiles the Node-API addon with node-gyp against the local
 * Node headers. It never downloads anything (no headers, no prebuilt binaries) and never fails the
 * install: when the build cannot run or fails, it records why in build/addon-status.json and exits 0,
 * and the package then reports itself unavailable (callers fall back to ONNX Runtime or tfjs).
 *
 * RLSA_NATIVE_SKIP_BUILD=1 skips the build (the package is then unavailable).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const statusFile = path.join(root, 'build', 'addon-status.json');

function report(ok, reason, log = '') {
  mkdirSync(path.dirname(statusFile), { recursive: true });
  writeFileSync(statusFile, `${JSON.stringify({ ok, reason, node: process.version, date: new Date().toISOString(), log: log.slice(-4000) }, null, 2)}\n`);
  const line = ok ? '@rlsa/linalg-native: addon built' : `@rlsa/linalg-native: addon NOT built (${reason}); callers fall back to ONNX Runtime`;
  process.stderr.write(`${line}\n`);
  process.exit(0);
}

if (process.env.RLSA_NATIVE_SKIP_BUILD === '1') report(false, 'RLSA_NATIVE_SKIP_BUILD=1');

/** Headers of the running Node: npm's `nodedir` setting, else the prefix of the node binary. Never downloaded. */
function nodeDir() {
  const candidates = [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..')].filter(Boolean);
  return candidates.find((dir) => existsSync(path.join(dir, 'include', 'node', 'node_api.h')));
}

/** node-gyp: the copy npm runs scripts with, else the one bundled with npm next to node, else PATH. */
function nodeGyp() {
  const bundled = path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  if (existsSync(bundled)) return [process.execPath, bundled];
  return ['node-gyp'];
}

const dir = nodeDir();
if (!dir) report(false, 'Node headers (include/node/node_api.h) not found next to node or in npm_config_nodedir; not downloading them');
const [cmd, ...pre] = nodeGyp();
const run = spawnSync(cmd, [...pre, 'rebuild', '--release', `--nodedir=${dir}`, `--jobs=2`], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_nodedir: dir } });
const log = `${run.stdout ?? ''}\n${run.stderr ?? ''}`;
if (run.error) report(false, `node-gyp could not start: ${run.error.message}`, log);
if (run.status !== 0) report(false, `node-gyp exited with status ${run.status}`, log);
if (!existsSync(path.join(root, 'build', 'Release', 'rlsa_linalg_native.node'))) report(false, 'node-gyp succeeded but build/Release/rlsa_linalg_native.node is missing', log);
report(true, 'built');
