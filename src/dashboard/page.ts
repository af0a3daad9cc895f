// The dashboard page: one self-contained HTML document (markup, one <style> and one <script> block, no external
// resource) and the headers it is served with. The Content-Security-Policy allows exactly the inline blocks, by
// their sha256 hashes computed here at module load, and network access only to this app (connect-src 'self').
// The script is browser/main.ts, compiled into script.ts by dev/compile-dashboard-script.mjs (part of `npm run build`).
import { createHash } from 'node:crypto';
import { DASHBOARD_BODY } from './markup';
import { DASHBOARD_SCRIPT } from './script';
import { DASHBOARD_STYLE } from './style';

/** The CSP source expression of an inline block: 'sha256-<base64 of the SHA-256 of its exact text>'. */
export function cspHash(blockText: string): string {
  return `'sha256-${createHash('sha256').update(blockText, 'utf8').digest('base64')}'`;
}

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>DPS allocator · dashboard</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_STYLE}</style>
</head>
<body data-refreshes="0">
${DASHBOARD_BODY}
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;

export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${cspHash(DASHBOARD_SCRIPT)}`,
  `style-src ${cspHash(DASHBOARD_STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of the page: the key travels in its URL, so no referrer, no caching, no framing. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': DASHBOARD_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
};
