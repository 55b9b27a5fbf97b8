import type { ModelCardView } from '@rlsa/wire';

/** A count with thousands separators (1,234,567), the same on every machine. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** An instant as UTC "YYYY-MM-DD HH:MM:SS UTC"; "—" when unknown. */
export function formatTime(epochMs: number | undefined): string {
  if (epochMs === undefined) return '—';
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A model card in one line: architecture, embedding width, task accuracy when known. */
export function formatModel(model: ModelCardView | undefined): string {
  if (model === undefined) return '—';
  const accuracy = model.taskAccuracy === undefined ? '' : `, task accuracy ${model.taskAccuracy.toFixed(3)}`;
  return `${model.architecture} (${model.embeddingWidth}-d${accuracy})`;
}

/** A CKA score to four decimals; "undefined" for NaN (too few shared samples, or a constant space). */
export function formatScore(value: number): string {
  return Number.isNaN(value) ? 'undefined' : value.toFixed(4);
}

export function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}
