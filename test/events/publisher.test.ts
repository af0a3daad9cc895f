// The background publisher with a fake sink: batches, retries after a failure, bisects a refused batch, bounds its
// queue (drops counted and logged), flushes and closes, and never throws at the caller.
import { BackgroundPublisher, type EventSink, type PublisherOptions } from '../../src/events/publisher';
import { eventId } from '../../src/events/ids';
import type { LifecycleEvent } from '../../src/events/catalog';

function event(n: number): LifecycleEvent {
  return {
    id: eventId('dps-allocator.device.assigned', String(n)),
    source: '/test',
    type: 'dps-allocator.device.assigned',
    subject: `device-${n}`,
    time: new Date(Date.UTC(2026, 11, 7, 0, 0, n)),
    datacontenttype: 'application/json',
    data: { registrationId: `device-${n}`, outcome: 'assigned', status: 200, hub: 'hub-a', reason: 'ok' },
  };
}

const events = (from: number, count: number) => Array.from({ length: count }, (_, i) => event(from + i));

class FakeSink implements EventSink {
  readonly target = 'https://topic.example.net/api/events';
  readonly delivered: LifecycleEvent[] = [];
  readonly sends: number[] = [];
  available = true;
  /** Subjects the topic refuses with a 400 (a batch holding one is refused whole). */
  refused = new Set<string>();

  async send(batch: readonly LifecycleEvent[]): Promise<void> {
    this.sends.push(batch.length);
    await Promise.resolve();
    if (!this.available) throw Object.assign(new Error('Service Unavailable'), { statusCode: 503 });
    if (batch.some((e) => this.refused.has(e.subject ?? '')))
      throw Object.assign(new Error('Bad Request'), { statusCode: 400 });
    this.delivered.push(...batch);
  }
}

function setup(options: Partial<PublisherOptions> = {}) {
  const sink = new FakeSink();
  const lines: { level: 'info' | 'warn'; message: string }[] = [];
  const publisher = new BackgroundPublisher(sink, {
    source: '/test',
    maxQueue: 10_000,
    notices: {
      info: (message) => lines.push({ level: 'info', message }),
      warn: (message) => lines.push({ level: 'warn', message }),
    },
    retryInitialMs: 1,
    retryMaxMs: 5,
    ...options,
  });
  return { sink, lines, publisher };
}

it('sends what is published in batches of at most 500 events', async () => {
  const { sink, publisher } = setup();
  publisher.publish(events(0, 1200));
  await publisher.flush();
  expect(sink.delivered.map((e) => e.subject)).toEqual(events(0, 1200).map((e) => e.subject));
  expect(Math.max(...sink.sends)).toBeLessThanOrEqual(500);
  expect(publisher.stats()).toEqual({ queued: 0, sent: 1200, dropped: 0, failing: false });
});

it('keeps batches under the byte limit', async () => {
  const { sink, publisher } = setup({ maxBatchBytes: 2_000 });
  publisher.publish(events(0, 30));
  await publisher.flush();
  expect(sink.delivered).toHaveLength(30);
  expect(sink.sends.length).toBeGreaterThan(1);
});

it('keeps events queued while the topic fails, says so once, and delivers them when it is back', async () => {
  const { sink, lines, publisher } = setup();
  sink.available = false;
  publisher.publish(events(0, 3));
  await new Promise((resolve) => setTimeout(resolve, 30));
  publisher.publish(events(3, 2));
  expect(publisher.stats()).toMatchObject({ queued: 5, sent: 0, failing: true });
  expect(sink.sends.length).toBeGreaterThan(1); // retried
  sink.available = true;
  await publisher.flush();
  expect(sink.delivered.map((e) => e.subject)).toEqual(events(0, 5).map((e) => e.subject));
  expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  expect(lines.filter((l) => l.level === 'warn')[0]?.message).toMatch(/cannot publish.*HTTP 503/);
  expect(lines.filter((l) => l.level === 'info')[0]?.message).toMatch(/again after .*none lost/);
  expect(publisher.stats()).toMatchObject({ queued: 0, sent: 5, failing: false });
});

it('drops the oldest events past the queue bound and logs the count when sending recovers', async () => {
  const { sink, lines, publisher } = setup({ maxQueue: 100 });
  sink.available = false;
  publisher.publish(events(0, 150));
  await new Promise((resolve) => setTimeout(resolve, 10));
  publisher.publish(events(150, 20));
  expect(publisher.stats()).toMatchObject({ queued: 100, dropped: 70 });
  sink.available = true;
  await publisher.flush();
  expect(sink.delivered.map((e) => e.subject)).toEqual(events(70, 100).map((e) => e.subject));
  const warnings = lines.filter((l) => l.level === 'warn').map((l) => l.message);
  expect(warnings.filter((m) => /EVENTS_MAX_QUEUE/.test(m))).toHaveLength(1);
  expect(lines.find((l) => l.level === 'info')?.message).toMatch(/70 event\(s\) were dropped/);
});

it('drops only the event the topic refuses, logged by type and id without its data', async () => {
  const { sink, lines, publisher } = setup();
  sink.refused.add('device-5');
  publisher.publish(events(0, 12));
  await publisher.flush();
  expect(sink.delivered.map((e) => e.subject)).toEqual(
    events(0, 12)
      .map((e) => e.subject)
      .filter((s) => s !== 'device-5'),
  );
  expect(publisher.stats()).toMatchObject({ sent: 11, dropped: 1, failing: false });
  const [warning, ...more] = lines.filter((l) => l.level === 'warn');
  expect(more).toHaveLength(0);
  expect(warning?.message).toContain(`dps-allocator.device.assigned ${event(5).id}`);
  expect(warning?.message).not.toContain('device-5');
});

it('never throws at the caller, even for an event that cannot be serialised', () => {
  const { lines, publisher } = setup();
  const circular = event(1) as LifecycleEvent & { data: Record<string, unknown> };
  circular.data.self = circular;
  expect(() => publisher.publish([circular])).not.toThrow();
  expect(lines[0]?.message).toMatch(/not queued/);
});

it('flush resolves when the time is up although the topic is down; close reports what is left', async () => {
  const { sink, lines, publisher } = setup({ retryInitialMs: 10_000, retryMaxMs: 10_000 });
  sink.available = false;
  publisher.publish(events(0, 4));
  await publisher.flush(50);
  expect(publisher.stats()).toMatchObject({ queued: 4, failing: true });
  await publisher.close(50);
  expect(lines.at(-1)?.message).toMatch(/closed with 4 event\(s\) not published/);
  publisher.publish(events(4, 1)); // ignored once closed
  expect(publisher.stats().queued).toBe(0);
});

it('close sends what is queued when the topic answers', async () => {
  const { sink, publisher } = setup();
  publisher.publish(events(0, 7));
  await publisher.close();
  expect(sink.delivered).toHaveLength(7);
});
