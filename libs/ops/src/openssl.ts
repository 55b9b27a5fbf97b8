import { execFile } from 'node:child_process';
import { OpsError } from './ops-error.ts';

/**
 * Runs the `openssl` binary with `args` (never through a shell) and resolves with its stdout.
 * Keys are passed as file paths only, so no key material crosses argv, stdout or an error message;
 * on failure the message carries openssl's stderr (which names files and reasons, not keys).
 */
export function runOpenssl(args: readonly string[], options: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'openssl',
      [...args],
      { cwd: options.cwd, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, OPENSSL_CONF: '/dev/null' } },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve(stdout);
          return;
        }
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        const detail = missing ? 'the openssl binary is not on PATH (apt-get install openssl)' : stderr.trim().split('\n').slice(-3).join('; ');
        reject(new OpsError('openssl_failed', `openssl ${args[0] ?? ''} failed: ${detail}`, { cause: error }));
      },
    );
  });
}
