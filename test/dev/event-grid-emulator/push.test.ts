// How accepted events reach subscribers: in-process listeners and waitForEvents, the SSE stream (replay, live,
// auth, a clean end on stop), the recorded list, and webhook subscriptions with Event Grid-like retries.
import { startEventGridEmulator, type EventGridEmulator } from '../../../dev/event-grid-emulator';
import { publisher, readSse, sampleEvent, startWebhookReceiver } from './support';

const fastDelivery = { retryDelaysMs: [20, 40], maxAttempts: 5, timeoutMs: 2_000 };

describe('in process, stream and recorded list', () => {
  let topic: EventGridEmulator;

  beforeAll(async () => {
    topic = await startEventGridEmulator({ keepAliveMs: 50 });
  });

  afterAll(async () => {
    await topic.stop();
  });

  it('tells in-process subscribers of each event until they unsubscribe; waitForEvents resolves', async () => {
    const heard: string[] = [];
    const unsubscribe = topic.subscribe((event) => heard.push(event.id));
    const waiting = topic.waitForEvents(topic.events().length + 2);
    await publisher(topic).send([sampleEvent(1), sampleEvent(2)]);
    expect((await waiting).map((event) => event.id)).toEqual(expect.arrayContaining(['event-1', 'event-2']));
    unsubscribe();
    await publisher(topic).send([sampleEvent(3)]);
    expect(heard).toEqual(['event-1', 'event-2']);
  });

  it('streams the recorded events with ?replay=true, then each new one, as SSE', async () => {
    const stream = await readSse(`${topic.streamUrl}?replay=true`, { 'aeg-sas-key': topic.key });
    try {
      const replayed = await stream.next(3);
      expect(replayed.map((event) => event.id)).toEqual(['event-1', 'event-2', 'event-3']);
      await publisher(topic).send([sampleEvent(4)]);
      const [, , , live] = await stream.next(4);
      expect(live).toMatchObject({ id: 'event-4', subject: 'device-4', data: { status: 'failed' } });
      expect(live?.receivedAt).toEqual(expect.any(String));
    } finally {
      stream.close();
    }
  });

  it('streams only new events without replay, and takes the key in the query', async () => {
    const stream = await readSse(`${topic.streamUrl}?aeg-sas-key=${encodeURIComponent(topic.key)}`, {});
    try {
      await publisher(topic).send([sampleEvent(5)]);
      expect((await stream.next(1)).map((event) => event.id)).toEqual(['event-5']);
    } finally {
      stream.close();
    }
  });

  it('refuses the stream and the recorded list without the key', async () => {
    for (const url of [topic.streamUrl, `${topic.endpoint}/recorded`]) {
      const response = await fetch(url, { headers: { 'aeg-sas-key': 'wrong' } });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('Unauthorized');
    }
  });

  it('lists the recorded events as JSON', async () => {
    const response = await fetch(`${topic.endpoint}/recorded`, { headers: { 'aeg-sas-key': topic.key } });
    expect(response.status).toBe(200);
    const listed = (await response.json()) as { id: string }[];
    expect(listed.map((event) => event.id)).toEqual(topic.events().map((event) => event.id));
  });
});

it('keeps only the newest events past its bound', async () => {
  const topic = await startEventGridEmulator({ maxRecordedEvents: 3 });
  try {
    await publisher(topic).send([1, 2, 3, 4, 5].map(sampleEvent));
    expect(topic.events().map((event) => event.id)).toEqual(['event-3', 'event-4', 'event-5']);
  } finally {
    await topic.stop();
  }
});

it('ends open streams cleanly on stop(), and rejects a pending waitForEvents', async () => {
  const topic = await startEventGridEmulator();
  const stream = await readSse(topic.streamUrl, { 'aeg-sas-key': topic.key });
  const waited = topic.waitForEvents(1).catch((error: Error) => error);
  await topic.stop();
  await expect(stream.ended).resolves.toBeUndefined();
  expect(await waited).toEqual(expect.objectContaining({ message: expect.stringMatching(/stopped/) }));
});

describe('webhook subscriptions', () => {
  it('POSTs each event as a CloudEvent with the aeg-* headers', async () => {
    const receiver = await startWebhookReceiver(() => 200);
    const topic = await startEventGridEmulator({ delivery: fastDelivery });
    try {
      topic.addWebhookSubscription(receiver.url);
      await publisher(topic).send([sampleEvent(1), sampleEvent(2)]);
      const deliveries = await receiver.waitFor(2);
      expect(deliveries.map((delivery) => delivery.body.id).sort()).toEqual(['event-1', 'event-2']);
      const first = deliveries.find((delivery) => delivery.body.id === 'event-1')!;
      expect(first.body).toEqual({
        id: 'event-1',
        source: '/dps-allocator/test',
        specversion: '1.0',
        type: 'dps-allocator.problem.opened',
        subject: 'device-1',
        time: '2026-12-07T06:00:00.000Z',
        datacontenttype: 'application/json',
        data: { status: 'failed', errorCode: 400209, n: 1 },
      });
      expect(first.headers).toMatchObject({
        'content-type': 'application/cloudevents+json; charset=utf-8',
        'aeg-event-type': 'Notification',
        'aeg-subscription-name': 'webhook-1',
        'aeg-delivery-count': '0',
      });
    } finally {
      await topic.stop();
      await receiver.stop();
    }
  });

  it('retries a failing receiver until it takes the event (at least once)', async () => {
    // Refuses the first two attempts (500, 503), then accepts.
    const receiver = await startWebhookReceiver((n) => (n < 2 ? [500, 503][n]! : 200));
    const lines: string[] = [];
    const topic = await startEventGridEmulator({ delivery: fastDelivery, log: (line) => lines.push(line) });
    try {
      topic.addWebhookSubscription(receiver.url);
      await publisher(topic).send([sampleEvent(7)]);
      const deliveries = await receiver.waitFor(3);
      expect(
        deliveries.map((delivery) => [delivery.body.id, delivery.headers['aeg-delivery-count']]),
      ).toEqual([
        ['event-7', '0'],
        ['event-7', '1'],
        ['event-7', '2'],
      ]);
      expect(lines.join('\n')).not.toContain('secret-function-key');
    } finally {
      await topic.stop();
      await receiver.stop();
    }
  });

  it('drops an event the receiver answers 400, as Event Grid does, and says so', async () => {
    const receiver = await startWebhookReceiver((n) => (n === 0 ? 400 : 200));
    const lines: string[] = [];
    const topic = await startEventGridEmulator({ delivery: fastDelivery, log: (line) => lines.push(line) });
    try {
      topic.addWebhookSubscription(receiver.url);
      await publisher(topic).send([sampleEvent(8)]);
      await receiver.waitFor(1);
      await publisher(topic).send([sampleEvent(9)]);
      const deliveries = await receiver.waitFor(2);
      expect(deliveries.map((delivery) => delivery.body.id)).toEqual(['event-8', 'event-9']);
      expect(lines).toContainEqual(expect.stringMatching(/event event-8 .* dropped after HTTP 400/));
    } finally {
      await topic.stop();
      await receiver.stop();
    }
  });

  it('refuses a webhook off the loopback interface', async () => {
    const topic = await startEventGridEmulator();
    try {
      expect(() => topic.addWebhookSubscription('https://example.com/hook')).toThrow(/not on 127.0.0.1/);
      expect(() => topic.addWebhookSubscription('not a url')).toThrow(/is not a URL/);
    } finally {
      await topic.stop();
    }
  });
});
