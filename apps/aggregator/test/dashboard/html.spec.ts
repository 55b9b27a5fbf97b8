import { describe, expect, it } from 'vitest';
import { html } from '../../src/dashboard/html.ts';

describe('html', () => {
  it('escapes every interpolated text, in content and in attributes', () => {
    const nodeId = `<script>alert("x")</script>' onload='x`;
    expect(html`<td data-node-id="${nodeId}">${nodeId}</td>`.text).toBe(
      '<td data-node-id="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#39;x">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#39;x</td>',
    );
  });

  it('keeps markup made by html, joins arrays, leaves out null, undefined and false', () => {
    const rows = ['a&b', 'c'].map((text) => html`<li>${text}</li>`);
    expect(html`<ul>${rows}${null}${undefined}${false}</ul><p>${0} ${true}</p>`.text).toBe('<ul><li>a&amp;b</li><li>c</li></ul><p>0 true</p>');
  });
});
