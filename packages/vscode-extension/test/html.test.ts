import { describe, expect, it } from 'vitest';
import { buildCsp, escapeHtml, renderPanelHtml } from '../src/webview/html';

const NONCE = 'q1w2e3r4t5y6u7i8o9p0aa==';
const SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

describe('escapeHtml', () => {
  it('escapes the five characters that matter in content and attributes', () => {
    expect(escapeHtml(`<img src=x onerror="alert('1')">&`)).toBe('&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;');
    expect(escapeHtml('plain name.iso')).toBe('plain name.iso');
  });
});

describe('buildCsp', () => {
  const csp = buildCsp(NONCE, SOURCE);
  const directives = new Map(csp.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1)]));
  it('denies everything by default', () => expect(directives.get('default-src')).toEqual(["'none'"]));
  it('allows scripts only with the nonce (no unsafe-inline, no eval, no origin)', () => {
    expect(directives.get('script-src')).toEqual([`'nonce-${NONCE}'`]);
    expect(csp).not.toMatch(/unsafe-(inline|eval)/);
  });
  it('allows styles, images and fonts from the webview resource origin only', () => {
    expect(directives.get('style-src')).toEqual([SOURCE]);
    expect(directives.get('img-src')).toEqual([SOURCE]);
    expect(directives.get('font-src')).toEqual([SOURCE]);
  });
  it('allows no connections, frames, forms or base URI changes', () => {
    expect(directives.has('connect-src')).toBe(false);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('form-action')).toEqual(["'none'"]);
  });
  it('takes the several sources a browser-hosted VS Code gives', () => {
    expect(buildCsp(NONCE, "'self' https://*.vscode-cdn.net http://127.0.0.1:8080")).toContain("style-src 'self' https://*.vscode-cdn.net http://127.0.0.1:8080");
  });
  it('refuses a weak nonce or a source that could inject a directive', () => {
    expect(() => buildCsp('short', SOURCE)).toThrow(TypeError);
    expect(() => buildCsp("abc'; script-src *", SOURCE)).toThrow(TypeError);
    expect(() => buildCsp(NONCE, `${SOURCE}; script-src *`)).toThrow(TypeError);
    expect(() => buildCsp(NONCE, '')).toThrow(TypeError);
    expect(() => buildCsp(NONCE, `${SOURCE} 'unsafe-inline'`)).toThrow(TypeError);
    expect(() => buildCsp(NONCE, `${SOURCE}, *`)).toThrow(TypeError);
  });
});

describe('renderPanelHtml', () => {
  const html = renderPanelHtml({ nonce: NONCE, cspSource: SOURCE, scriptUri: `${SOURCE}/media/panel.js?a=1&b="2"`, styleUri: `${SOURCE}/media/panel.css` });
  it('puts the CSP in a meta tag and the nonce on the one script', () => {
    expect(html).toContain('<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;');
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(html).toContain(`<script nonce="${NONCE}" src="`);
  });
  it('escapes the resource URIs it embeds', () => {
    expect(html).toContain('panel.js?a=1&amp;b=&quot;2&quot;');
  });
  it('has no inline script or style and no event handler attributes', () => {
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style="|\son[a-z]+=/i);
  });
  it('has real buttons and a labelled list for keyboard and screen reader users', () => {
    expect(html.match(/<button type="button"/g)).toHaveLength(4);
    expect(html).toContain('data-command="clearCompleted"');
    expect(html).toMatch(/<input type="search" id="filter"[^>]*aria-label="Filter downloads by name, URL or state"/);
    expect(html).toContain('<ul id="downloads" class="downloads" aria-label="Downloads">');
    expect(html).toContain('role="status"');
  });
});
