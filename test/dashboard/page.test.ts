// The dashboard page as served: one self-contained document whose inline style and script are exactly the blocks
// the Content-Security-Policy allows by hash, a script that is the current compile of its TypeScript source, nothing
// that loads from elsewhere or writes markup from data, the security headers, and a 400 naming a bad parameter.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import vm from 'node:vm';
import { dashboardResponse } from '../../src/dashboard/http';
import { DASHBOARD_CSP, DASHBOARD_HTML } from '../../src/dashboard/page';
import { DASHBOARD_SCRIPT } from '../../src/dashboard/script';
import { DASHBOARD_STYLE } from '../../src/dashboard/style';

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The text of every <tag>…</tag> block of the page. */
function blocks(tag: string): string[] {
  return [...DASHBOARD_HTML.matchAll(new RegExp(`<${tag}\\b[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))].map(
    (match) => match[1]!,
  );
}

function directives(): Map<string, string[]> {
  return new Map(
    DASHBOARD_CSP.split(';').map((part) => {
      const [name, ...values] = part.trim().split(/\s+/);
      return [name!, values];
    }),
  );
}

const get = (query = '') => dashboardResponse({ query: new URLSearchParams(query) });

describe('the dashboard page', () => {
  it('allows exactly its one inline style and one inline script, by their sha256 hashes', () => {
    const styles = blocks('style');
    const scripts = blocks('script');
    expect(styles).toEqual([DASHBOARD_STYLE]);
    expect(scripts).toEqual([DASHBOARD_SCRIPT]);
    const csp = directives();
    expect(csp.get('script-src')).toEqual([sha256(scripts[0]!)]);
    expect(csp.get('style-src')).toEqual([sha256(styles[0]!)]);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('img-src')).toEqual(["'self'", 'data:']);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
  });

  it('loads nothing from elsewhere and has no inline handlers or style attributes', () => {
    const markup = DASHBOARD_HTML.replace(/<script>[\s\S]*<\/script>/, '');
    expect(markup).not.toMatch(/\son[a-z]+\s*=/i);
    expect(markup).not.toMatch(/\sstyle\s*=/i);
    expect(markup).not.toMatch(/\s(src|srcset|action)\s*=/i);
    expect([...markup.matchAll(/\shref="([^"]*)"/g)].map((match) => match[1])).toEqual(['data:,']);
    // The only absolute URL anywhere is the SVG namespace, which is a name, not a fetch.
    expect([...DASHBOARD_HTML.matchAll(/\b(?:https?:)?\/\/[\w.-]+/g)].map((match) => match[0])).toEqual([
      'http://www.w3.org',
    ]);
    expect(DASHBOARD_STYLE).not.toMatch(/url\(|@import/);
  });

  it('is a script that parses and builds the DOM from text only', () => {
    expect(() => new vm.Script(DASHBOARD_SCRIPT)).not.toThrow();
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
      'Function(',
    ]) {
      expect({ sink, found: DASHBOARD_SCRIPT.includes(sink) }).toEqual({ sink, found: false });
    }
    // The key goes to the JSON endpoints as a header, never into a URL it builds or into the page.
    expect(DASHBOARD_SCRIPT).toMatch(/headers\['x-functions-key'\] = functionKey/);
    expect(DASHBOARD_SCRIPT.match(/functionKey/g)).toHaveLength(3);
  });

  it('inlines the current compile of src/dashboard/browser/main.ts (if not: npm run compile)', () => {
    // script.ts is generated and committed: jest reads the source tree, and the build regenerates it.
    const compiled = spawnSync(
      process.execPath,
      [path.join(__dirname, '../../dev/compile-dashboard-script.mjs'), '--print'],
      { encoding: 'utf8' },
    );
    expect({ status: compiled.status, stderr: compiled.stderr }).toEqual({ status: 0, stderr: '' });
    expect(DASHBOARD_SCRIPT).toBe(compiled.stdout);
    // One strict function around it all: the script declares no global.
    expect(DASHBOARD_SCRIPT).toMatch(/^\(\(\) => \{\n'use strict';\n[\s\S]*\n\}\)\(\);\n$/);
  }, 60_000);
});

describe('dashboardResponse', () => {
  it('serves the page with its security headers', () => {
    const answer = get('code=any-key&refresh=60');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(DASHBOARD_HTML);
    expect(answer.headers).toEqual({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': DASHBOARD_CSP,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
      'Cross-Origin-Opener-Policy': 'same-origin',
    });
    expect(get().status).toBe(200);
    expect(get('refresh=5').status).toBe(200);
    expect(get('refresh=3600').status).toBe(200);
  });

  it('answers a bad parameter with a 400 that names it, as plain text', () => {
    const cases: Array<[string, RegExp]> = [
      ['refresh=4', /^refresh must be a whole number of seconds from 5 to 3600\n$/],
      ['refresh=3601', /^refresh must be/],
      ['refresh=1.5', /^refresh must be/],
      ['refresh=', /^refresh must be/],
      ['refresh=10&refresh=20', /^refresh is given more than once/],
      ['theme=dark', /^unknown parameter 'theme'; known parameters: code, refresh/],
      [`${'x'.repeat(500)}=1`, new RegExp(`^unknown parameter '${'x'.repeat(100)}';`)],
    ];
    for (const [query, message] of cases) {
      const answer = get(query);
      expect({ query, status: answer.status }).toEqual({ query, status: 400 });
      expect(answer.body).toMatch(message);
      expect(answer.headers).toMatchObject({
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
      });
    }
  });
});
