// Keeps secrets out of logs, error messages and stored audit records: SAS keys and tokens, Entra tokens,
// enrollment symmetric keys and the function key (`code=`) of custom-allocation webhook URLs.

const MASK = '***';

// Each pattern keeps its first group (the field name) and masks the secret value after it.
const SECRET_PATTERNS: readonly RegExp[] = [
  // Connection strings: SharedAccessKey=...; (SharedAccessKeyName is not a secret and does not match).
  /(SharedAccessKey\s*=\s*)[^;"'\s]+/gi,
  // A whole SAS token, whatever its field order.
  /(SharedAccessSignature\s+)[^"'\s,;]+/gi,
  // A loose `sig=` field (token fragments, query strings).
  /(\bsig=)[^&"'\s,;]+/gi,
  // Webhook function keys: ?code=, &code=, JSON-escaped \u0026code= and %26code=.
  /((?:[?&]|\\u0026|%26)code=)[^&#"'\s\\)]+/gi,
  // Entra access tokens.
  /(\bBearer\s+)[\w.~+/-]+=*/gi,
  // Symmetric keys in JSON text: "primaryKey": "...", "secondaryKey": "...".
  /("(?:primaryKey|secondaryKey|sharedAccessKey|primary_key|secondary_key)"\s*:\s*")[^"]*(?=")/gi,
  // Azure Functions key header.
  /(x-functions-key\s*[:=]\s*)[^\s,;"']+/gi,
];

/** Masks every secret this project knows about in free text (log lines, error messages, response snippets). */
export function redactSecrets(text: string): string {
  let result = text;
  for (const pattern of SECRET_PATTERNS) result = result.replace(pattern, `$1${MASK}`);
  return result;
}

/** A webhook URL without its query string, fragment or user info: the `code=` function key never survives. */
export function redactWebhookUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    // Not a URL: keep only what precedes any query or fragment, masked as free text.
    return redactSecrets(url.split(/[?#]/, 1)[0] ?? '');
  }
}

interface EnrollmentWithSecrets {
  attestation?: { symmetricKey?: { primaryKey?: string | null; secondaryKey?: string | null } | null } | null;
  customAllocationDefinition?: { webhookUrl?: string } | null;
}

/**
 * A deep copy of an enrollment group or individual enrollment that is safe to store: symmetric keys removed,
 * the webhook URL reduced to scheme, host and path. Everything else is kept as is.
 */
export function stripEnrollmentSecrets<T extends EnrollmentWithSecrets>(enrollment: T): T {
  const copy = structuredClone(enrollment);
  const symmetricKey = copy.attestation?.symmetricKey;
  if (symmetricKey) {
    delete symmetricKey.primaryKey;
    delete symmetricKey.secondaryKey;
  }
  const definition = copy.customAllocationDefinition;
  if (definition && typeof definition.webhookUrl === 'string') {
    definition.webhookUrl = redactWebhookUrl(definition.webhookUrl);
  }
  return copy;
}
