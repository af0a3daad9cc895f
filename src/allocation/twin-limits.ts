// IoT Hub device twin limits (docs/dps-contract.md §8.1), applied to the initialTwin we return.

export const TWIN_LIMITS = {
  tagsBytes: 8 * 1024,
  desiredBytes: 32 * 1024,
  maxDepth: 10,
  keyBytes: 1024,
  stringBytes: 4 * 1024,
  maxSafeTwinInteger: 4503599627370495,
} as const;

// Control characters (C0, DEL, C1), '.', '$' and space are not allowed in twin keys.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_KEY_CHARACTERS = /[\u0000-\u001f\u007f-\u009f.$ ]/;

export interface TwinProblem {
  path: string;
  message: string;
}

/** Problems of one twin collection (tags or desired); `where` names it in messages. */
export function checkTwinCollection(
  collection: Record<string, unknown>,
  where: string,
  maxBytes: number,
): TwinProblem[] {
  const problems: TwinProblem[] = [];
  walk(collection, where, 1, problems);
  const bytes = Buffer.byteLength(JSON.stringify(collection), 'utf8');
  if (bytes > maxBytes) {
    problems.push({ path: where, message: `is ${bytes} bytes; IoT Hub allows at most ${maxBytes}` });
  }
  return problems;
}

function walk(value: Record<string, unknown>, path: string, depth: number, problems: TwinProblem[]): void {
  if (depth > TWIN_LIMITS.maxDepth) {
    problems.push({ path, message: `nests deeper than ${TWIN_LIMITS.maxDepth} levels` });
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const childPath = `${path}.${key}`;
    if (key.length === 0) problems.push({ path: childPath, message: 'twin keys must not be empty' });
    if (FORBIDDEN_KEY_CHARACTERS.test(key)) {
      problems.push({
        path: childPath,
        message: "twin keys must not contain '.', '$', spaces or control characters",
      });
    }
    if (Buffer.byteLength(key, 'utf8') > TWIN_LIMITS.keyBytes) {
      problems.push({ path: childPath, message: `twin keys are at most ${TWIN_LIMITS.keyBytes} bytes` });
    }
    checkValue(child, childPath, depth, problems);
  }
}

function checkValue(value: unknown, path: string, depth: number, problems: TwinProblem[]): void {
  if (Array.isArray(value)) {
    problems.push({ path, message: 'twin values must not be arrays' });
  } else if (typeof value === 'string') {
    if (Buffer.byteLength(value, 'utf8') > TWIN_LIMITS.stringBytes) {
      problems.push({ path, message: `twin strings are at most ${TWIN_LIMITS.stringBytes} bytes` });
    }
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) problems.push({ path, message: 'twin numbers must be finite' });
    else if (Number.isInteger(value) && Math.abs(value) > TWIN_LIMITS.maxSafeTwinInteger) {
      problems.push({ path, message: `twin integers must be within ±${TWIN_LIMITS.maxSafeTwinInteger}` });
    }
  } else if (typeof value === 'object' && value !== null) {
    walk(value as Record<string, unknown>, path, depth + 1, problems);
  }
}
