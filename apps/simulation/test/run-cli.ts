import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `rlsa` entry script the end-to-end tests start. */
export const CLI = fileURLToPath(new URL('../../cli/bin/rlsa.mjs', import.meta.url));

/** Runs `rlsa ...args` as its own process; SIGKILL after `timeoutMs`. Resolves with the exit code and both streams. */
export function runCli(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
