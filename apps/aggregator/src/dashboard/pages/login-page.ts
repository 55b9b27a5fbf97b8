import { html } from '../html.ts';
import type { SafeHtml } from '../html.ts';
import { page } from './layout.ts';

/** Longest token the login form takes (the form's maxlength and the server's check). */
export const MAX_TOKEN_LENGTH = 512;

/**
 * The login form: one token field, posted to /login with the page to return to. `problem` is
 * shown as an alert (a wrong token, a node token).
 */
export function loginPage(next: string, problem?: string): SafeHtml {
  const main = html`<h1>Sign in</h1>
<p>Give a reader or admin token. It is checked once: the browser keeps a session cookie, never the token.</p>
${problem === undefined ? undefined : html`<p class="problem" role="alert">${problem}</p>`}
<form class="login" method="post" action="/login">
  <input type="hidden" name="next" value="${next}">
  <label for="token">Token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required maxlength="${MAX_TOKEN_LENGTH}" spellcheck="false">
  <button type="submit">Sign in</button>
</form>`;
  return page('Sign in', { principal: undefined, authOff: false }, main, html`class="narrow"`);
}
