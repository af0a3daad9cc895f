// The archive reader against Azurite's Blob service: append blobs laid out as Azure Monitor archives a DPS's logs.
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { startAzurite, type Azurite } from '../../../dev/azurite';
import {
  archiveBlobName,
  attestationRecord,
  emulatorResourceId,
} from '../../../dev/dps-emulator/resource-logs';
import {
  DeviceOperationsArchive,
  hourOfBlob,
  initialPosition,
} from '../../../src/dps/resource-logs/device-operations-archive';

const DPS = emulatorResourceId('contoso-dps');
const OTHER_DPS = emulatorResourceId('other-dps');
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 7, 12, 30);

let azurite: Azurite;
let container: ContainerClient;
let containerIndex = 0;

beforeAll(async () => {
  azurite = await startAzurite({ blobPort: 0 });
});
afterAll(async () => {
  await azurite.stop();
});
beforeEach(async () => {
  container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
    `logs-${++containerIndex}`,
  );
  await container.create();
});

function line(registrationId: string, at: number, succeeded = false): string {
  return `${attestationRecord(
    DPS,
    { registrationId, protocol: 'Mqtt', succeeded, status: 401, errorCode: 401002, reason: 'unknown CA' },
    new Date(at),
  )}\n`;
}

async function append(resourceId: string, hourMs: number, text: string): Promise<void> {
  const blob = container.getAppendBlobClient(archiveBlobName(resourceId, new Date(hourMs)));
  await blob.createIfNotExists();
  await blob.appendBlock(text, Buffer.byteLength(text));
}

const ids = (read: { attempts: { registrationId: string }[] }) => read.attempts.map((a) => a.registrationId);

describe('DeviceOperationsArchive', () => {
  it('reads the hour blobs in order, then only what was appended since', async () => {
    const archive = new DeviceOperationsArchive(container, `resourceId=${DPS}/`);
    await append(DPS, NOW - HOUR, line('device-a', NOW - HOUR));
    await append(DPS, NOW, line('device-b', NOW));
    await append(OTHER_DPS, NOW, line('other-dps-device', NOW));

    const first = await archive.readSince(initialPosition(NOW, 24), { nowMs: NOW, maxBytes: 1 << 20 });
    expect(ids(first)).toEqual(['device-a', 'device-b']);
    expect(first.blobsRead).toBe(2);
    expect(first.truncated).toBe(false);

    const again = await archive.readSince(first.position, { nowMs: NOW, maxBytes: 1 << 20 });
    expect(again.attempts).toEqual([]);

    await append(DPS, NOW, line('device-c', NOW + 1000));
    const later = await archive.readSince(again.position, { nowMs: NOW, maxBytes: 1 << 20 });
    expect(ids(later)).toEqual(['device-c']);
  });

  it('takes whole lines only: a record still being written is read the next time', async () => {
    const archive = new DeviceOperationsArchive(container, undefined);
    const record = line('device-a', NOW);
    await append(DPS, NOW, record.slice(0, 40));
    const partial = await archive.readSince(initialPosition(NOW, 1), { nowMs: NOW, maxBytes: 1 << 20 });
    expect(partial.attempts).toEqual([]);
    await append(DPS, NOW, record.slice(40));
    const whole = await archive.readSince(partial.position, { nowMs: NOW, maxBytes: 1 << 20 });
    expect(ids(whole)).toEqual(['device-a']);
  });

  it('skips blobs of hours before the position and counts lines that are not records', async () => {
    const archive = new DeviceOperationsArchive(container, undefined);
    await append(DPS, NOW - 30 * HOUR, line('too-old', NOW - 30 * HOUR));
    await append(DPS, NOW, `not json\n${line('device-a', NOW)}`);
    const read = await archive.readSince(initialPosition(NOW, 24), { nowMs: NOW, maxBytes: 1 << 20 });
    expect(ids(read)).toEqual(['device-a']);
    expect(read.malformedLines).toBe(1);
  });

  it('stops at maxBytes and goes on from there', async () => {
    const archive = new DeviceOperationsArchive(container, undefined);
    const text = ['d1', 'd2', 'd3', 'd4'].map((id) => line(id, NOW)).join('');
    await append(DPS, NOW, text);
    const oneLine = Buffer.byteLength(line('d1', NOW));
    const seen: string[] = [];
    let position = initialPosition(NOW, 1);
    for (let reads = 0; reads < 10; reads++) {
      const read = await archive.readSince(position, { nowMs: NOW, maxBytes: oneLine * 1.5 });
      seen.push(...ids(read));
      position = read.position;
      if (!read.truncated) break;
    }
    expect(seen).toEqual(['d1', 'd2', 'd3', 'd4']);
  });

  it('moves its position past the hours Azure Monitor no longer appends to', async () => {
    const archive = new DeviceOperationsArchive(container, undefined);
    await append(DPS, NOW - 5 * HOUR, line('device-a', NOW - 5 * HOUR));
    const read = await archive.readSince(initialPosition(NOW, 24), { nowMs: NOW, maxBytes: 1 << 20 });
    expect(read.position.sinceHourMs).toBe(Date.UTC(2026, 11, 7, 9));
    expect(read.position.offsets).toEqual({});
  });

  it('reads nothing, without failing, before the container exists', async () => {
    const missing = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
      'insights-logs-deviceoperations',
    );
    const archive = new DeviceOperationsArchive(missing, undefined);
    const read = await archive.readSince(initialPosition(NOW, 24), { nowMs: NOW, maxBytes: 1 << 20 });
    expect(read.attempts).toEqual([]);
  });

  it('names the hour of archive paths', () => {
    expect(hourOfBlob(archiveBlobName(DPS, new Date(NOW)))).toBe(Date.UTC(2026, 11, 7, 12));
    expect(hourOfBlob('somewhere/else.json')).toBeUndefined();
  });
});
