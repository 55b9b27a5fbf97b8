/**
 * The roles a node plays in a run. A `trainer` is a party trained on its own task: its relative
 * space is merged. The `reference` is a model trained end to end on every task: the merged space
 * is evaluated against it (CKA) and it is never merged. The wire enum (`NodeRole` in rlsa.v1) maps
 * to these names in `@rlsa/wire`.
 */
export const NODE_ROLES = ['trainer', 'reference'] as const;
export type NodeRoleName = (typeof NODE_ROLES)[number];
