import escapeHtml from 'escape-html';

/** Markup that is already safe to send: built by `html`, never from a caller's text. */
export class SafeHtml {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

type Interpolated = SafeHtml | string | number | boolean | null | undefined | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * A tagged template for HTML: every interpolated value is escaped (element content and quoted
 * attribute values alike) unless it is `SafeHtml` made by this tag; arrays are joined; null,
 * undefined and false are left out. Run ids, node ids and model names are the nodes' text, so
 * nothing reaches a page any other way.
 */
export function html(strings: TemplateStringsArray, ...values: readonly Interpolated[]): SafeHtml {
  let text = strings[0] ?? '';
  for (let i = 0; i < values.length; i += 1) text += render(values[i] as Interpolated) + (strings[i + 1] ?? '');
  return new SafeHtml(text);
}
