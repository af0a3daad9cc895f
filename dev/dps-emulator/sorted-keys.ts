// A sorted set of string keys with binary search, so that paging a 100,000-registration group costs
// O(log n + page) per page, and continuation tokens that encode the last key returned: a page boundary
// stays valid when keys are inserted or deleted between pages.
import { badRequest } from './errors';

export interface KeyPage {
  keys: string[];
  /** True when at least one key follows the last key of this page. */
  hasMore: boolean;
}

export class SortedKeySet {
  private keys: string[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** Index of the first key >= `key`. */
  private lowerBound(key: string): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.keys[mid]! < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Index of the first key > `key`. */
  private upperBound(key: string): number {
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.keys[mid]! <= key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  has(key: string): boolean {
    const index = this.lowerBound(key);
    return this.keys[index] === key;
  }

  /** Inserts one key in place; returns false when it was already present. */
  add(key: string): boolean {
    const index = this.lowerBound(key);
    if (this.keys[index] === key) return false;
    if (index === this.keys.length) this.keys.push(key);
    else this.keys.splice(index, 0, key);
    return true;
  }

  /** Inserts many keys at once: one sort instead of n insertions (seeding, loading a data file). */
  addMany(newKeys: readonly string[]): void {
    if (newKeys.length === 0) return;
    const merged = this.keys.concat(newKeys);
    if (!isStrictlyAscending(merged)) {
      merged.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      let write = 0;
      for (let read = 0; read < merged.length; read++) {
        if (write === 0 || merged[read] !== merged[write - 1]) merged[write++] = merged[read]!;
      }
      merged.length = write;
    }
    this.keys = merged;
  }

  delete(key: string): boolean {
    const index = this.lowerBound(key);
    if (this.keys[index] !== key) return false;
    this.keys.splice(index, 1);
    return true;
  }

  clear(): void {
    this.keys = [];
  }

  /** Up to `limit` keys strictly after `afterKey` (from the start when undefined). */
  page(afterKey: string | undefined, limit: number): KeyPage {
    const start = afterKey === undefined ? 0 : this.upperBound(afterKey);
    const end = Math.min(this.keys.length, start + limit);
    return { keys: this.keys.slice(start, end), hasMore: end < this.keys.length };
  }

  values(): readonly string[] {
    return this.keys;
  }
}

function isStrictlyAscending(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) return false;
  return true;
}

const TOKEN_PREFIX = 'emu1:';

/** An opaque continuation token that names the last key of the page just returned. */
export function encodeContinuationToken(lastKey: string): string {
  return Buffer.from(`${TOKEN_PREFIX}${lastKey}`, 'utf8').toString('base64url');
}

/** The last key named by a continuation token; a token the emulator did not issue is a 400. */
export function decodeContinuationToken(token: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!text.startsWith(TOKEN_PREFIX) || text.length === TOKEN_PREFIX.length) {
    throw badRequest('x-ms-continuation is not a continuation token issued by this service');
  }
  return text.slice(TOKEN_PREFIX.length);
}
