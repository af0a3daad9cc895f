// The answer of every HTTP function of the app, as plain data: each is assignable to @azure/functions
// HttpResponseInit, so core modules answer without importing the Functions runtime.

/** A JSON answer (the webhook, the JSON APIs). */
export interface JsonAnswer {
  status: number;
  jsonBody: unknown;
  headers: Record<string, string>;
}

/** A text answer (the dashboard page and its errors). */
export interface TextAnswer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

/** A JSON answer that no cache keeps: the APIs answer with live data, and their URLs may hold the function key. */
export function respond(status: number, jsonBody: unknown, headers: Record<string, string> = {}): JsonAnswer {
  return { status, jsonBody, headers: { 'Cache-Control': 'no-store', ...headers } };
}
