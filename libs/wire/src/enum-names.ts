import { NODE_ROLES, RlsaError, SIMILARITIES } from '@rlsa/core';
import type { NodeRoleName, Similarity } from '@rlsa/core';
import { AnchorDtype, AnchorSetKind, NodeReadPolicy, NodeRole, RunState, Similarity as SimilarityEnum, SpaceKind } from '@rlsa/proto';


/** The two spaces a node uploads: its relative representations (merged) and, when the run allows, its absolute embeddings. */
export const SPACE_NAMES = ['relative', 'absolute'] as const;
export type SpaceName = (typeof SPACE_NAMES)[number];

/** A run's life: open (joins and uploads), closed (final), deleted (data removed). */
export const RUN_STATE_NAMES = ['open', 'closed', 'deleted'] as const;
export type RunStateName = (typeof RUN_STATE_NAMES)[number];

/** What a run's nodes may read: the merged space (and its evaluation, its neighbours), or nothing. */
export const NODE_READ_NAMES = ['merged', 'none'] as const;
export type NodeReadName = (typeof NODE_READ_NAMES)[number];

/** The kinds of an uploaded anchor set (its canonical encoding's kinds). */
export const ANCHOR_SET_KIND_NAMES = ['images', 'array', 'builtin'] as const;
export type AnchorSetKindName = (typeof ANCHOR_SET_KIND_NAMES)[number];

/** Element types of an array anchor set. */
export const ANCHOR_DTYPE_NAMES = ['uint8', 'float32'] as const;
export type AnchorDtypeName = (typeof ANCHOR_DTYPE_NAMES)[number];

/** A closed name <-> wire enum table: `fromName` refuses an unknown name, `toName` gives undefined for UNSPECIFIED and unknown values. */
interface EnumNames<N extends string, E extends number> {
  fromName(name: N): E;
  toName(value: number): N | undefined;
}

function enumNames<N extends string, E extends number>(what: string, names: readonly N[], table: Record<N, E>): EnumNames<N, E> {
  return {
    fromName: (name) => {
      const value = (table as Partial<Record<string, E>>)[name];
      if (value === undefined) throw new RlsaError('invalid_argument', `unknown ${what} ${String(name)} (${names.join(', ')})`);
      return value;
    },
    toName: (value) => names.find((n) => table[n] === value),
  };
}

const SIMILARITY = enumNames('similarity', SIMILARITIES, {
  cosine: SimilarityEnum.COSINE,
  euclidean: SimilarityEnum.EUCLIDEAN,
  l1: SimilarityEnum.L1,
  angular: SimilarityEnum.ANGULAR,
});
const ROLE = enumNames('node role', NODE_ROLES, { trainer: NodeRole.TRAINER, reference: NodeRole.REFERENCE });
const SPACE = enumNames('space', SPACE_NAMES, { relative: SpaceKind.RELATIVE, absolute: SpaceKind.ABSOLUTE });
const RUN_STATE = enumNames('run state', RUN_STATE_NAMES, { open: RunState.OPEN, closed: RunState.CLOSED, deleted: RunState.DELETED });
const NODE_READ = enumNames('node read policy', NODE_READ_NAMES, { merged: NodeReadPolicy.MERGED, none: NodeReadPolicy.NONE });
const ANCHOR_SET_KIND = enumNames('anchor set kind', ANCHOR_SET_KIND_NAMES, {
  images: AnchorSetKind.IMAGES,
  array: AnchorSetKind.ARRAY,
  builtin: AnchorSetKind.BUILTIN,
});
const ANCHOR_DTYPE = enumNames('anchor dtype', ANCHOR_DTYPE_NAMES, { uint8: AnchorDtype.UINT8, float32: AnchorDtype.FLOAT32 });

export const similarityFromName = SIMILARITY.fromName;

/** The name of a similarity; UNSPECIFIED is the default, cosine. */
export function similarityName(value: SimilarityEnum): Similarity {
  if (value === SimilarityEnum.UNSPECIFIED) return 'cosine';
  const name = SIMILARITY.toName(value);
  if (name === undefined) throw new RlsaError('invalid_argument', `unknown similarity ${value}`);
  return name;
}

export const roleFromName = ROLE.fromName;

export function roleName(role: NodeRole): NodeRoleName | 'unspecified' {
  return ROLE.toName(role) ?? 'unspecified';
}

export const spaceFromName = SPACE.fromName;

/** The name of a space kind, or undefined for UNSPECIFIED and unknown values. */
export const spaceName = SPACE.toName;

export const runStateFromName = RUN_STATE.fromName;

/** The name of a run state; UNSPECIFIED (a status from before states existed) is open. */
export function runStateName(state: RunState): RunStateName {
  return RUN_STATE.toName(state) ?? 'open';
}

export const nodeReadFromName = NODE_READ.fromName;

/** The name of a node read policy; UNSPECIFIED is the server's default, merged. */
export function nodeReadName(policy: NodeReadPolicy): NodeReadName {
  if (policy === NodeReadPolicy.UNSPECIFIED) return 'merged';
  const name = NODE_READ.toName(policy);
  if (name === undefined) throw new RlsaError('invalid_argument', `unknown node read policy ${policy}`);
  return name;
}

export const anchorSetKindFromName = ANCHOR_SET_KIND.fromName;

/** The name of an anchor set kind; `invalid_argument` for UNSPECIFIED and unknown values. */
export function anchorSetKindName(kind: AnchorSetKind): AnchorSetKindName {
  const name = ANCHOR_SET_KIND.toName(kind);
  if (name === undefined) throw new RlsaError('invalid_argument', `anchor set kind ${kind} is not images, array or builtin`);
  return name;
}

export const anchorDtypeFromName = ANCHOR_DTYPE.fromName;

/** The name of an array anchor set's element type, or undefined (UNSPECIFIED: not an array set). */
export const anchorDtypeName = ANCHOR_DTYPE.toName;
