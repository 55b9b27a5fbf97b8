import { readFileSync } from 'node:fs';
import { TrainerError } from './errors.ts';
import type { TrainerSettings } from './options.ts';

/** How a node reaches its aggregator. */
export interface AggregatorConnection {
  /** 'host:port'. */
  readonly address: string;
  readonly token?: string | undefined;
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer } | undefined;
}

/** Reads a token file: its content without surrounding whitespace. */
export function readTokenFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error: unknown) {
    throw new TrainerError('invalid_argument', `${file}: cannot read the token file`, { cause: error });
  }
}

function readPem(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (error: unknown) {
    throw new TrainerError('invalid_argument', `${file}: cannot read (${(error as Error).message})`, { cause: error });
  }
}

/**
 * The connection the settings describe (the token read from --token-file, the PEM files read);
 * undefined without --aggregator (the node then trains and reports only).
 */
export function connectionFromSettings(settings: TrainerSettings['connection']): AggregatorConnection | undefined {
  if (settings.token !== undefined && settings.tokenFile !== undefined) throw new TrainerError('invalid_argument', 'give --token or --token-file, not both');
  const token = settings.tokenFile !== undefined ? readTokenFile(settings.tokenFile) : settings.token;
  const ca = readPem(settings.tlsCa);
  const cert = readPem(settings.tlsCert);
  const key = readPem(settings.tlsKey);
  if ((cert === undefined) !== (key === undefined)) throw new TrainerError('invalid_argument', '--tls-cert and --tls-key go together');
  const tls = ca !== undefined || cert !== undefined ? { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } : undefined;
  if (settings.aggregator === undefined) return undefined;
  return { address: settings.aggregator, ...(token !== undefined ? { token } : {}), ...(tls !== undefined ? { tls } : {}) };
}
