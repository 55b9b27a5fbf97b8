/**
 * What a node may ask for (`--backend`): `auto` tries node, then wasm, then cpu. Free of tfjs, so
 * that the command line can list the choices without loading a backend (`@rlsa/tfjs-kernels/backends`).
 */
export const BACKENDS = ['auto', 'node', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKENDS)[number];

/** The backend in use, in the vocabulary of `--backend` (`node` is tfjs's `tensorflow` backend). */
export type BackendName = Exclude<BackendPreference, 'auto'>;
