// A decision's reason as the decision table keeps it: the policy's explanation without the device's payload
// values (payloadMap and geo quote them), without the body snippet of a JSON parse error, without secrets, on
// one line and bounded. Table storage keeps rows for months; the function's log line is the place for detail.
import { redactSecrets } from '../dps/redact';

export const MAX_REASON_LENGTH = 1000;
const WITHHELD = "'…'";

const PAYLOAD_VALUES: readonly RegExp[] = [
  // payloadMap: "payload.tenant = 'contoso' names us", "payload.tenant value 'x' is not in the map"...
  /(payload\.\S+ (?:=|value) )'[^']*'/g,
  // ...and what the value names, which is the value itself when the strategy has no map
  /(payload\.\S+ (?:=|value) '…' names )(?:'[^']*'|[^\s,;]+)/g,
  // geo: "device region 'uksouth' -> ...", "no candidate hub is in a region listed for 'uksouth'"
  /(device region )'[^']*'/g,
  /(region listed for )'[^']*'/g,
];

/** Node's JSON.parse quotes the start of the text it could not parse: `Unexpected token 'x', "{x..." is not valid JSON`. */
const JSON_SNIPPET = /(, )".*"( is not valid JSON)/s;

export function safeReason(reason: string): string {
  let text = reason.replace(JSON_SNIPPET, '$1the body$2');
  for (const pattern of PAYLOAD_VALUES) text = text.replace(pattern, `$1${WITHHELD}`);
  text = redactSecrets(text.replace(/\s+/g, ' ').trim());
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 1)}…`;
}
