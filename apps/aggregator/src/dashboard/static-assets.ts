import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A file the aggregator serves itself (no page loads anything from elsewhere). */
export interface StaticAsset {
  readonly body: Buffer;
  readonly contentType: string;
  /** A strong validator of the body, for If-None-Match. */
  readonly etag: string;
}

const CONTENT_TYPES = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
} as const;

/** The names under /assets/ (the only files served). */
export type AssetName = keyof typeof CONTENT_TYPES;

function load(name: AssetName): StaticAsset {
  const body = readFileSync(new URL(`./assets/${name}`, import.meta.url));
  return { body, contentType: CONTENT_TYPES[name], etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** Every asset, read once at start. */
export const STATIC_ASSETS: ReadonlyMap<string, StaticAsset> = new Map((Object.keys(CONTENT_TYPES) as AssetName[]).map((name) => [name, load(name)]));
