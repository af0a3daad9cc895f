// The publisher of the app settings: none without a topic; one per process for a topic and source, so the next
// timer invocation in a worker finds what an outage left queued.
import { eventPublisherFromSettings } from '../../src/events/from-settings';
import { readSettings } from '../../src/settings';

const quiet = { info: () => undefined, warn: () => undefined };
const sink = { target: 'fake', send: () => Promise.resolve() };

it('is a no-op without EVENTS_TOPIC_ENDPOINT', async () => {
  const publisher = eventPublisherFromSettings(readSettings({}), {}, quiet);
  expect(publisher.source).toBe('/dps-allocator');
  expect(() => publisher.publish([])).not.toThrow();
  await publisher.flush(10);
  expect(publisher.stats()).toEqual({ queued: 0, sent: 0, dropped: 0, failing: false });
});

it('is the same publisher for the same topic and source, another one for another source', async () => {
  const env = { EVENTS_TOPIC_ENDPOINT: 'http://127.0.0.1:1/api/events', EVENTS_TOPIC_KEY: 'k' };
  const settings = readSettings(env);
  const first = eventPublisherFromSettings(settings, env, quiet, { sink });
  expect(eventPublisherFromSettings(settings, env, quiet, { sink })).toBe(first);
  const other = readSettings({ ...env, EVENTS_SOURCE: '/dps-allocator/other' });
  const second = eventPublisherFromSettings(other, env, quiet, { sink });
  expect(second).not.toBe(first);
  expect(second.source).toBe('/dps-allocator/other');
  await first.close(10);
  expect(eventPublisherFromSettings(settings, env, quiet, { sink })).not.toBe(first); // a closed one is replaced
  await Promise.all([second.close(10), eventPublisherFromSettings(settings, env, quiet, { sink }).close(10)]);
});
