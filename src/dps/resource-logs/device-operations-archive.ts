// Reads the DPS's DeviceOperations resource logs that a diagnostic setting archives to a storage account: append
// blobs `PT1H.json`, one per resource and hour (`.../y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`), one JSON record per
// line (learn.microsoft.com/azure/azure-monitor/essentials/resource-logs#send-to-azure-storage). A read goes on from
// where the previous one stopped: the position is the hour before which blobs are done and, for later blobs, the
// bytes already read. Only whole lines are taken; a line still being written is read next time.
import type { ContainerClient } from '@azure/storage-blob';
import { attestationAttemptOf, type AttestationAttempt } from './attestation-attempts';

const HOUR_MS = 3_600_000;
/** Azure Monitor may still append to the previous hours' blobs; older ones are final. */
const OPEN_HOURS = 3;
const BLOB_HOUR = /(?:^|\/)y=(\d{4})\/m=(\d{2})\/d=(\d{2})\/h=(\d{2})\//;

export interface ArchivePosition {
  /** Blobs of earlier hours are read to their end. */
  sinceHourMs: number;
  /** Bytes read so far of the blobs of later hours, by blob name. */
  offsets: Record<string, number>;
}

export interface ArchiveRead {
  attempts: AttestationAttempt[];
  /** Where the next read goes on from: save it once the attempts are recorded. */
  position: ArchivePosition;
  blobsRead: number;
  bytesRead: number;
  /** Lines that are not resource log records (skipped). */
  malformedLines: number;
  /** True when `maxBytes` stopped the read: more is waiting. */
  truncated: boolean;
}

/** The hour a blob's path names (UTC, epoch ms), or undefined for a name outside the archive layout. */
export function hourOfBlob(name: string): number | undefined {
  const match = BLOB_HOUR.exec(name);
  if (!match) return undefined;
  const [, year, month, day, hour] = match.map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour);
  return Number.isNaN(ms) ? undefined : ms;
}

const floorToHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** Where the first read starts: `lookbackHours` before now. */
export function initialPosition(nowMs: number, lookbackHours: number): ArchivePosition {
  return { sinceHourMs: floorToHour(nowMs - lookbackHours * HOUR_MS), offsets: {} };
}

interface PendingBlob {
  name: string;
  hourMs: number;
  length: number;
}

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}

export class DeviceOperationsArchive {
  constructor(
    private readonly container: ContainerClient,
    /** Blob name prefix: `resourceId=<DPS resource id>/`, or undefined for the whole container. */
    private readonly prefix: string | undefined,
  ) {}

  private async pendingBlobs(position: ArchivePosition): Promise<PendingBlob[]> {
    const pending: PendingBlob[] = [];
    try {
      for await (const blob of this.container.listBlobsFlat(this.prefix ? { prefix: this.prefix } : {})) {
        const hourMs = hourOfBlob(blob.name);
        if (hourMs === undefined || hourMs < position.sinceHourMs) continue;
        const length = blob.properties.contentLength ?? 0;
        if (length > (position.offsets[blob.name] ?? 0)) pending.push({ name: blob.name, hourMs, length });
      }
    } catch (error) {
      // Azure Monitor creates the container with its first record: none yet, nothing to read.
      if (isNotFound(error)) return [];
      throw error;
    }
    return pending.sort((a, b) => a.hourMs - b.hourMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Reads what was appended since `position`, at most about `maxBytes` (whole lines). */
  async readSince(
    position: ArchivePosition,
    options: { nowMs: number; maxBytes: number; abortSignal?: AbortSignal },
  ): Promise<ArchiveRead> {
    const offsets = { ...position.offsets };
    const attempts: AttestationAttempt[] = [];
    let bytesRead = 0;
    let blobsRead = 0;
    let malformedLines = 0;
    let truncated = false;
    for (const blob of await this.pendingBlobs(position)) {
      const start = offsets[blob.name] ?? 0;
      const count = Math.min(blob.length - start, Math.max(options.maxBytes - bytesRead, 0));
      if (count <= 0) {
        truncated = true;
        break;
      }
      const chunk = await this.container
        .getBlobClient(blob.name)
        .downloadToBuffer(start, count, { abortSignal: options.abortSignal });
      const end = chunk.lastIndexOf(0x0a) + 1; // whole lines only
      blobsRead++;
      bytesRead += end;
      offsets[blob.name] = start + end;
      for (const line of chunk.subarray(0, end).toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        const attempt = attestationAttemptOf(line);
        if (attempt === 'malformed') malformedLines++;
        else if (attempt) attempts.push(attempt);
      }
      if (start + count < blob.length) truncated = true;
      if (end === 0 && count === options.maxBytes) {
        // One line longer than a whole read: skip it rather than stop here for ever.
        offsets[blob.name] = start + count;
        malformedLines++;
      }
    }
    return {
      attempts,
      position: nextPosition(position.sinceHourMs, offsets, options.nowMs, truncated),
      blobsRead,
      bytesRead,
      malformedLines,
      truncated,
    };
  }
}

/** Moves `sinceHourMs` up to the hours no longer appended to, and forgets the offsets of the blobs before it. */
function nextPosition(
  sinceHourMs: number,
  offsets: Record<string, number>,
  nowMs: number,
  truncated: boolean,
): ArchivePosition {
  // A truncated read has blobs it did not reach: keep the hour where it stands.
  const since = truncated ? sinceHourMs : Math.max(sinceHourMs, floorToHour(nowMs) - OPEN_HOURS * HOUR_MS);
  const kept = Object.entries(offsets).filter(([name]) => (hourOfBlob(name) ?? 0) >= since);
  return { sinceHourMs: since, offsets: Object.fromEntries(kept) };
}
