/**
 * The Downloads panel's HTML shell and its Content Security Policy, as pure functions so the
 * policy is unit tested. Data never goes into this HTML: rows are built by the webview script with
 * `textContent`, so a file name like `<img onerror=…>` stays text.
 */

/** HTML-escapes text for an element's content or a double-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A nonce is used inside the CSP header and an attribute, so it must be a plain base64 token. */
const NONCE_PATTERN = /^[A-Za-z0-9+/]{16,}={0,2}$/;

/** One CSP source expression: `'self'`, a scheme, or a host source; nothing that ends a directive. */
const SOURCE_PATTERN = /^(?:'self'|[a-z][a-z0-9+.-]*:(?:\/\/[^\s;,'"]+)?|(?:\*\.)?[a-z0-9.-]+(?::\d+)?(?:\/[^\s;,'"]*)?)$/i;

/**
 * The panel's Content Security Policy: nothing by default; scripts only with the per-load nonce;
 * styles, images and fonts only from the webview's own resource origin (`cspSource`, which serves
 * the extension's media folder). No inline styles, no eval, no network.
 *
 * @throws TypeError for a nonce that is not a long base64 token, or a `cspSource` that is not a
 *   list of source expressions (anything that could end the directive).
 */
export function buildCsp(nonce: string, cspSource: string): string {
  if (!NONCE_PATTERN.test(nonce)) throw new TypeError('The nonce must be base64 of at least 16 characters');
  // VS Code gives one source (`https://*.vscode-cdn.net`) or several (`'self' https://…` in browsers).
  const sources = cspSource.trim().split(/ +/);
  if (cspSource.trim() === '' || !sources.every((src) => SOURCE_PATTERN.test(src))) {
    throw new TypeError('Unexpected characters in the webview CSP source');
  }
  return [
    "default-src 'none'",
    `img-src ${cspSource}`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** What {@link renderPanelHtml} needs. */
export interface PanelHtmlOptions {
  nonce: string;
  /** `webview.cspSource`. */
  cspSource: string;
  /** `webview.asWebviewUri` of media/panel.js. */
  scriptUri: string;
  /** `webview.asWebviewUri` of media/panel.css. */
  styleUri: string;
}

/** The panel's static HTML: a toolbar, a live summary and an empty list the script fills. */
export function renderPanelHtml(o: PanelHtmlOptions): string {
  const csp = buildCsp(o.nonce, o.cspSource);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(o.styleUri)}">
<title>Downloads</title>
</head>
<body>
<header class="toolbar">
<div class="buttons" role="toolbar" aria-label="Downloads toolbar">
<button type="button" data-command="downloadUrl">Download URL…</button>
<button type="button" data-command="pauseAll" class="secondary">Pause all</button>
<button type="button" data-command="resumeAll" class="secondary">Resume all</button>
<button type="button" data-command="clearCompleted" class="secondary" disabled>Clear completed</button>
</div>
<input type="search" id="filter" class="filter" placeholder="Filter by name, URL or state ( / )" aria-label="Filter downloads by name, URL or state" aria-controls="downloads" spellcheck="false" autocomplete="off">
<span id="summary" class="summary" role="status" aria-live="polite"></span>
</header>
<p id="notice" class="notice" hidden></p>
<ul id="downloads" class="downloads" aria-label="Downloads"></ul>
<p id="no-match" class="empty" role="status" hidden></p>
<p id="empty" class="empty" hidden>Use “Download URL…”, or drop links here (in VS Code, hold Shift while dropping).</p>
<footer id="footer" class="footer" role="status" aria-live="off" hidden></footer>
<div id="drop-hint" class="drop-hint" hidden><span>Drop to download the links</span></div>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>`;
}
