// Text that goes into an event: redacted (src/dps/redact.ts) and without even the masked form of a secret's field
// (`code=***`, `sig=***`, `SharedAccessSignature ***`), so that no subscriber-side secret scanner trips on an event
// and no event reads like it carries a credential.
import { redactSecrets } from '../dps/redact';

export function eventText(text: string): string {
  return redactSecrets(text)
    .replace(/SharedAccessSignature\s+\*{3}/gi, 'SharedAccess token withheld')
    .replace(/\b(code|sig)=\*{3}/gi, '$1 withheld')
    .replace(/\b(code|sig)=/gi, '$1');
}
