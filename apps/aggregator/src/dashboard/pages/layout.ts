import { describeGrants } from '../../access/access-policy.ts';
import type { Principal } from '../../auth.ts';
import { html } from '../html.ts';
import type { SafeHtml } from '../html.ts';

/** Who is looking, for the page's header and footer (undefined on the login page). */
export interface Viewer {
  readonly principal: Principal | undefined;
  /** No tokens file: every caller is the anonymous admin (served on loopback only). */
  readonly authOff: boolean;
}

function authOffNotice(viewer: Viewer): SafeHtml | undefined {
  if (!viewer.authOff) return undefined;
  return html`<p class="notice" role="note">
    Authentication is off (the aggregator has no tokens file): anyone who can reach this port sees every run.
    The dashboard allows this on a loopback address only.
  </p>`;
}

function signedIn(viewer: Viewer): SafeHtml | undefined {
  const principal = viewer.principal;
  if (principal === undefined || viewer.authOff) return undefined;
  return html`<form class="logout" method="post" action="/logout">
    <span>${principal.subject} (${describeGrants(principal)})</span>
    <button type="submit">Log out</button>
  </form>`;
}

/** A whole page: landmarks (banner, navigation, main, contentinfo), the stylesheet and the one script. */
export function page(title: string, viewer: Viewer, main: SafeHtml, mainAttributes: SafeHtml = html``): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · RLSA aggregator</title>
<link rel="stylesheet" href="/assets/dashboard.css">
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<script src="/assets/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="banner">
  <a class="brand" href="/">RLSA aggregator</a>
  <nav aria-label="Main"><a href="/">Runs</a></nav>
  ${signedIn(viewer)}
</header>
${authOffNotice(viewer)}
<main id="main" ${mainAttributes}>
${main}
</main>
<footer><p>Read-only dashboard. Relative Latent Space Aggregation.</p></footer>
</body>
</html>
`;
}
