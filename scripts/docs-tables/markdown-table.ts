/** Escapes what would end a Markdown table cell early. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * A GitHub-flavoured Markdown table: one header row, then `rows` (each as long as the header).
 * Columns listed in `rightAligned` (by index) are right-aligned, for numbers.
 */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly number[] = []): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  const rule = header.map((_, i) => (rightAligned.includes(i) ? '---:' : '---'));
  return [line(header), `|${rule.join('|')}|`, ...rows.map((row) => line(header.map((_, i) => row[i] ?? '')))].join('\n');
}

/** A number with `digits` decimals, or an en dash where there is none (null, missing, NaN, ±Inf). */
export function fixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}
