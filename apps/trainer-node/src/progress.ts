import { SingleBar, Presets } from 'cli-progress';
import type { Logger } from 'pino';

/** Long work reports here: a bar on a terminal, a pino line every few seconds otherwise. */
export interface Progress {
  start(phase: string, total: number): void;
  update(done: number, fields?: Record<string, number | string>): void;
  stop(): void;
}

/** A progress reporter for `stream`: cli-progress when it is a TTY, else throttled pino lines. */
export function createProgress(logger: Logger, stream: NodeJS.WriteStream = process.stderr, intervalMs = 5000): Progress {
  if (stream.isTTY) {
    let bar: SingleBar | undefined;
    return {
      start(phase, total) {
        bar?.stop();
        bar = new SingleBar({ format: `${phase.padEnd(10)} [{bar}] {percentage}% {value}/{total} {info}`, stream, hideCursor: true }, Presets.shades_classic);
        bar.start(total, 0, { info: '' });
      },
      update(done, fields) {
        const info = fields ? Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v}`).join(' ') : '';
        bar?.update(done, { info });
      },
      stop() {
        bar?.stop();
        bar = undefined;
      },
    };
  }
  let phase = '';
  let total = 0;
  let last = 0;
  return {
    start(p, t) {
      phase = p;
      total = t;
      last = Date.now();
    },
    update(done, fields) {
      const now = Date.now();
      if (now - last < intervalMs && done < total) return;
      last = now;
      logger.info({ phase, done, total, ...fields }, `${phase} ${done}/${total}`);
    },
    stop() {
      phase = '';
    },
  };
}

/** A progress reporter that reports nothing (in-process tests). */
export const silentProgress: Progress = { start() {}, update() {}, stop() {} };
