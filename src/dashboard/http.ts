// GET /api/dashboard: the page, or a 400 naming a bad parameter. The page itself is the same for every request
// (its script reads `code` and `refresh` from its own URL), so only the parameters are checked here.
import type { TextAnswer } from '../http/response';
import { DASHBOARD_HEADERS, DASHBOARD_HTML } from './page';

export const MIN_REFRESH_SECONDS = 5;
export const MAX_REFRESH_SECONDS = 3600;

/** The parts of an @azure/functions HttpRequest the page reads. */
export interface DashboardRequest {
  query: URLSearchParams;
}

/** `code` is the function key (the host checks it; the page's script sends it on to the JSON endpoints). */
const KNOWN_PARAMETERS = ['code', 'refresh'];

function badRequest(message: string): TextAnswer {
  return {
    status: 400,
    body: `${message}\n`,
    headers: {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    },
  };
}

function parameterProblem(query: URLSearchParams): string | undefined {
  const seen = new Set<string>();
  for (const [name, value] of query) {
    const shown = name.slice(0, 100);
    if (!KNOWN_PARAMETERS.includes(name)) {
      return `unknown parameter '${shown}'; known parameters: ${KNOWN_PARAMETERS.join(', ')}`;
    }
    if (seen.has(name)) return `${name} is given more than once`;
    seen.add(name);
    if (name === 'refresh') {
      const seconds = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
      if (!(seconds >= MIN_REFRESH_SECONDS && seconds <= MAX_REFRESH_SECONDS)) {
        return `refresh must be a whole number of seconds from ${MIN_REFRESH_SECONDS} to ${MAX_REFRESH_SECONDS}`;
      }
    }
  }
  return undefined;
}

export function dashboardResponse(request: DashboardRequest): TextAnswer {
  const problem = parameterProblem(request.query);
  if (problem) return badRequest(problem);
  return { status: 200, body: DASHBOARD_HTML, headers: { ...DASHBOARD_HEADERS } };
}
