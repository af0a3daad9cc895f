// Last line of defence for the command's output: every secret the command has seen (function key, policy key,
// symmetric keys) is replaced wherever it would appear, on top of the pattern-based redaction.
import { redactSecrets } from '../../dps/redact';

const MASK = '***';
// Shorter values could match ordinary words; real keys are far longer.
const MIN_SECRET_LENGTH = 6;

export class SecretScrubber {
  private readonly secrets = new Set<string>();

  /** Remembers a secret and its URL-encoded form (the function key appears encoded in a URL). */
  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH) return;
    this.secrets.add(secret);
    this.secrets.add(encodeURIComponent(secret));
    this.secrets.add(new URLSearchParams({ k: secret }).toString().slice(2));
  }

  scrub(text: string): string {
    let result = text;
    // Longest first, so a secret that contains another is masked whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      result = result.split(secret).join(MASK);
    }
    return redactSecrets(result);
  }
}
