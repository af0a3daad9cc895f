// The emulator's DeviceOperations resource logs, archived as Azure Monitor archives a DPS's logs to a storage
// account (docs/dps-contract.md §4.4): one record per attestation attempt, appended as a JSON line to the append
// blob of its hour, `resourceId=<ID>/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json`, in `insights-logs-deviceoperations`.
// Records go out in batches in the background: a storage fault keeps them queued (bounded) and never slows a
// device down. Never a token, key or certificate body: the reason is attestation's own sentence.
import { randomUUID } from 'node:crypto';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';

export const DEVICE_OPERATIONS_CONTAINER = 'insights-logs-deviceoperations';
const FLUSH_INTERVAL_MS = 500;
const MAX_QUEUED_RECORDS = 10_000;
/** Below the append-block limit of 4 MiB (learn.microsoft.com/rest/api/storageservices/append-block). */
const MAX_BLOCK_BYTES = 2 * 1024 * 1024;

export interface AttestationAttemptLog {
  registrationId: string;
  protocol: 'Http' | 'Mqtt';
  succeeded: boolean;
  /** A refusal's HTTP status (401) and DPS error code (401002). */
  status?: number;
  errorCode?: number;
  /** Why the device was refused. */
  reason?: string;
}

export interface ResourceLogSink {
  attestationAttempt(attempt: AttestationAttemptLog): void;
  /** Writes what is queued now (tests, and before stopping). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface BlobResourceLogOptions {
  /** A storage connection string with a BlobEndpoint (Azurite's). */
  connectionString: string;
  /** The DPS's resource id, as the blob paths carry it (upper case). */
  resourceId: string;
  container?: string;
  log?: (line: string) => void;
}

/** The resource id a DPS named `name` would have; the emulator has no subscription. */
export function emulatorResourceId(name: string): string {
  return (
    '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/DPS-EMULATOR/PROVIDERS/' +
    `MICROSOFT.DEVICES/PROVISIONINGSERVICES/${name.toUpperCase()}`
  );
}

const two = (value: number) => String(value).padStart(2, '0');

export function archiveBlobName(resourceId: string, at: Date): string {
  const hour = `y=${at.getUTCFullYear()}/m=${two(at.getUTCMonth() + 1)}/d=${two(at.getUTCDate())}/h=${two(at.getUTCHours())}`;
  return `resourceId=${resourceId.toUpperCase()}/${hour}/m=00/PT1H.json`;
}

/** One record in the resource log schema (learn.microsoft.com/azure/azure-monitor/essentials/resource-logs-schema). */
export function attestationRecord(resourceId: string, attempt: AttestationAttemptLog, at: Date): string {
  const refusal = attempt.succeeded
    ? { resultType: 'Success', resultSignature: '', resultDescription: '', level: 'Information' }
    : {
        resultType: 'Failure',
        resultSignature: String(attempt.status ?? 401),
        resultDescription: [attempt.errorCode, attempt.reason]
          .filter((part) => part !== undefined)
          .join(': '),
        level: 'Error',
      };
  return JSON.stringify({
    time: at.toISOString(),
    resourceId: resourceId.toUpperCase(),
    category: 'DeviceOperations',
    operationName: 'AttestationAttempt',
    operationVersion: 'March2019',
    ...refusal,
    durationMs: '0',
    callerIpAddress: '127.0.0.XXX',
    correlationId: randomUUID(),
    location: 'local',
    properties: { id: attempt.registrationId, type: 'Registration', protocol: attempt.protocol },
  });
}

class BlobResourceLogSink implements ResourceLogSink {
  private queue: { blob: string; line: string }[] = [];
  private dropped = 0;
  private flushing: Promise<void> | undefined;
  private containerReady = false;
  private readonly createdBlobs = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private readonly container: ContainerClient;

  constructor(private readonly options: BlobResourceLogOptions) {
    // One try per flush: a failed write stays queued and the next flush, half a second later, is the retry.
    this.container = BlobServiceClient.fromConnectionString(options.connectionString, {
      retryOptions: { maxTries: 1, tryTimeoutInMs: 10_000 },
    }).getContainerClient(options.container ?? DEVICE_OPERATIONS_CONTAINER);
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  attestationAttempt(attempt: AttestationAttemptLog): void {
    const at = new Date();
    if (this.queue.length >= MAX_QUEUED_RECORDS) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push({
      blob: archiveBlobName(this.options.resourceId, at),
      line: `${attestationRecord(this.options.resourceId, attempt, at)}\n`,
    });
  }

  flush(): Promise<void> {
    this.flushing ??= this.writeQueued().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async writeQueued(): Promise<void> {
    if (this.dropped > 0) {
      this.options.log?.(`resource logs: ${this.dropped} records dropped while storage was unreachable`);
      this.dropped = 0;
    }
    while (this.queue.length > 0) {
      const blob = this.queue[0]!.blob;
      let bytes = 0;
      let count = 0;
      while (count < this.queue.length && this.queue[count]!.blob === blob && bytes < MAX_BLOCK_BYTES) {
        bytes += Buffer.byteLength(this.queue[count]!.line);
        count++;
      }
      const body = this.queue
        .slice(0, count)
        .map((item) => item.line)
        .join('');
      try {
        await this.append(blob, body);
      } catch (error) {
        this.options.log?.(`resource logs: not written yet (${(error as Error).message.slice(0, 200)})`);
        return; // kept queued: the next flush tries again
      }
      this.queue.splice(0, count);
    }
  }

  private async append(name: string, body: string): Promise<void> {
    if (!this.containerReady) {
      await this.container.createIfNotExists();
      this.containerReady = true;
    }
    const blob = this.container.getAppendBlobClient(name);
    if (!this.createdBlobs.has(name)) {
      await blob.createIfNotExists();
      this.createdBlobs.add(name);
    }
    await blob.appendBlock(body, Buffer.byteLength(body));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

export function createBlobResourceLogSink(options: BlobResourceLogOptions): ResourceLogSink {
  return new BlobResourceLogSink(options);
}
