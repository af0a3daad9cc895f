// The official @azure/eventgrid publisher client, unchanged, against the topic emulator: key and SAS credentials,
// what it records, a wrong key (401), an oversized batch (413), and the topic down (503) then back.
import {
  AzureKeyCredential,
  AzureSASCredential,
  generateSharedAccessSignature,
  type SendCloudEventInput,
} from '@azure/eventgrid';
import { startEventGridEmulator, type EventGridEmulator } from '../../../dev/event-grid-emulator';
import { publisher, sampleEvent } from './support';

let topic: EventGridEmulator;

beforeAll(async () => {
  topic = await startEventGridEmulator();
});

afterAll(async () => {
  await topic.stop();
});

/** The error a promise rejects with (the test fails when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { statusCode?: number }> {
  return promise.then(
    () => {
      throw new Error('the send should have been refused');
    },
    (error: Error & { statusCode?: number }) => error,
  );
}

it('records what the client sends with a key, as sent: id, type, subject, time, data', async () => {
  const before = topic.events().length;
  await publisher(topic).send([sampleEvent(1), sampleEvent(2)]);
  const recorded = topic.events().slice(before);
  expect(recorded).toHaveLength(2);
  expect(recorded[0]).toMatchObject({
    id: 'event-1',
    source: '/dps-allocator/test',
    specversion: '1.0',
    type: 'dps-allocator.problem.opened',
    subject: 'device-1',
    time: '2026-12-07T06:00:00.000Z',
    datacontenttype: 'application/json',
    data: { status: 'failed', errorCode: 400209, n: 1 },
  });
  expect(recorded[1]?.id).toBe('event-2');
  expect(Date.parse(recorded[0]!.receivedAt)).not.toBeNaN();
});

it('fills in the id and time the client leaves out, and keeps extension attributes', async () => {
  const before = topic.events().length;
  const event: SendCloudEventInput<unknown> = {
    type: 'dps-allocator.device.assigned',
    source: '/dps-allocator/test',
    data: { hub: 'hub-a.azure-devices.net' },
    extensionAttributes: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
  };
  await publisher(topic).send([event]);
  const [recorded] = topic.events().slice(before);
  expect(recorded?.id).toMatch(/^[0-9a-f-]{36}$/);
  expect(recorded?.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
});

it('accepts a SAS token made by generateSharedAccessSignature, and refuses an expired one', async () => {
  const key = new AzureKeyCredential(topic.key);
  const signature = await generateSharedAccessSignature(topic.endpoint, key, new Date(Date.now() + 600_000));
  const before = topic.events().length;
  await publisher(topic, new AzureSASCredential(signature)).send([sampleEvent(3)]);
  expect(
    topic
      .events()
      .slice(before)
      .map((event) => event.id),
  ).toEqual(['event-3']);

  const expired = await generateSharedAccessSignature(topic.endpoint, key, new Date(Date.now() - 60_000));
  const error = await rejection(publisher(topic, new AzureSASCredential(expired)).send([sampleEvent(4)]));
  expect(error.statusCode).toBe(401);
  expect(error.message).toMatch(/expired/);
});

it('refuses a wrong key with 401 and records nothing', async () => {
  const before = topic.events().length;
  const wrong = new AzureKeyCredential(Buffer.alloc(32, 7).toString('base64'));
  const error = await rejection(publisher(topic, wrong).send([sampleEvent(5)]));
  expect(error.statusCode).toBe(401);
  expect(error.message).toMatch(/not authorized/);
  expect(error.message).not.toContain(topic.key);
  const signedWrong = await generateSharedAccessSignature(
    topic.endpoint,
    wrong,
    new Date(Date.now() + 600_000),
  );
  const sasError = await rejection(
    publisher(topic, new AzureSASCredential(signedWrong)).send([sampleEvent(5)]),
  );
  expect(sasError.statusCode).toBe(401);
  expect(topic.events()).toHaveLength(before);
});

it('answers a batch over 1 MB with 413', async () => {
  const big = (n: number) => ({ ...sampleEvent(n), data: { padding: 'x'.repeat(400_000) } });
  const error = await rejection(publisher(topic).send([big(6), big(7), big(8)]));
  expect(error.statusCode).toBe(413);
});

it('is down while unavailable (503, the client rejects) and takes events again once available', async () => {
  topic.setAvailable(false);
  try {
    const error = await rejection(publisher(topic).send([sampleEvent(9)]));
    expect(error.statusCode).toBe(503);
  } finally {
    topic.setAvailable(true);
  }
  await publisher(topic).send([sampleEvent(10)]);
  const ids = topic.events().map((event) => event.id);
  expect(ids).toContain('event-10');
  expect(ids).not.toContain('event-9');
});
