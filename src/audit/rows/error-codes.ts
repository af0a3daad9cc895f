// What a DPS error code or problem status means for an operator (docs/dps-contract.md §1.4 and §5). Microsoft
// publishes no complete list of DPS codes, so unknown ones get an explanation by their HTTP-like hundreds.

const KNOWN_CODES: Readonly<Record<number, string>> = {
  400004:
    'Invalid argument: DPS rejected a value of the enrollment or request (e.g. a custom allocation policy without ' +
    'a customAllocationDefinition).',
  400207:
    'Custom allocation failed: the webhook answered a status other than 200, 401 or >= 429 (e.g. 400 when the ' +
    "policy rejected the device), or DPS gave up retrying a 429/5xx. The webhook's own reason is in the " +
    'allocate function log.',
  400208:
    'Custom allocation returned no IoT hub: the webhook answered 200 with an empty or null iotHubHostName.',
  400209:
    "Custom allocation webhook key rejected: the webhook answered 401, usually because the enrollment's webhookUrl " +
    'has no or a wrong function key (?code=).',
  401002:
    'Unauthorized: DPS refused the device at attestation: a bad SAS token, key or certificate (e.g. a device key ' +
    'not derived from the current group key, or an X.509 certificate, or one in its chain, that expired or is not ' +
    'valid yet).',
  404201: 'No enrollment matches the registration id the device presented.',
  404202: 'Not found (DPS 404202; its exact meaning is not documented).',
};

const STATUS_EXPLANATIONS: Readonly<Record<string, string>> = {
  unassigned: 'The device registered but DPS did not assign it to any IoT hub.',
  disabled: 'The enrollment or this registration is disabled: DPS refuses the device.',
  failed: 'The registration failed.',
};

/** An operator-facing explanation of a DPS error code. */
export function explainErrorCode(code: number): string {
  const known = KNOWN_CODES[code];
  if (known) return known;
  const hundreds = Math.floor(code / 1000);
  if (hundreds === 429) return 'Throttled: DPS quota exceeded; the device should retry later.';
  if (hundreds >= 400 && hundreds < 500) {
    return `DPS error ${code}: a request or configuration problem (HTTP ${hundreds}); not a documented code.`;
  }
  if (hundreds >= 500 && hundreds < 600) {
    return `DPS error ${code}: a DPS-side failure (HTTP ${hundreds}); the device should retry.`;
  }
  return `DPS error ${code}: not a documented code.`;
}

/** The explanation stored with a problem: the error code's when there is one, else the status's. */
export function explainProblem(
  status: string,
  errorCode: number | undefined,
  assigningGraceMinutes: number,
): string {
  if (errorCode !== undefined) return explainErrorCode(errorCode);
  if (status === 'assigning') {
    return `The registration has been assigning for more than ${assigningGraceMinutes} minutes: the webhook or DPS is stuck, or DPS is still retrying a webhook that answers 429/5xx.`;
  }
  return STATUS_EXPLANATIONS[status] ?? `Registration status '${status}'.`;
}
