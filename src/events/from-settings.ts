// The event publisher of the app settings: none without EVENTS_TOPIC_ENDPOINT; otherwise one per process and
// topic + source, so that the audit timer's next invocation in the same worker finds the events a topic outage
// left queued, and allocate's requests share one queue.
import type { Settings } from '../settings';
import { createEventGridSink } from './event-grid-sink';
import {
  BackgroundPublisher,
  noopPublisher,
  type EventNotices,
  type EventPublisher,
  type EventSink,
  type PublisherOptions,
} from './publisher';

export const consoleEventNotices: EventNotices = {
  info: (message) => console.info(message),
  warn: (message) => console.warn(message),
};

export interface PublisherFromSettingsOptions {
  /** Replaces the Event Grid sink (tests). */
  sink?: EventSink;
  /** Publisher tuning beyond the settings (tests). */
  publisher?: Partial<Omit<PublisherOptions, 'notices' | 'source' | 'maxQueue'>>;
}

/** Per topic + source: the publisher, and where its notices go now (the latest caller's log). */
const publishers = new Map<string, { publisher: BackgroundPublisher; notices: EventNotices }>();

export type EventSettings = Pick<
  Settings,
  'EVENTS_TOPIC_ENDPOINT' | 'EVENTS_TOPIC_KEY' | 'EVENTS_SOURCE' | 'EVENTS_MAX_QUEUE'
>;

export function eventPublisherFromSettings(
  settings: EventSettings,
  env: NodeJS.ProcessEnv,
  notices: EventNotices = consoleEventNotices,
  options: PublisherFromSettingsOptions = {},
): EventPublisher {
  const endpoint = settings.EVENTS_TOPIC_ENDPOINT;
  if (!endpoint) return noopPublisher(settings.EVENTS_SOURCE);
  const key = `${endpoint}\n${settings.EVENTS_SOURCE}`;
  const existing = publishers.get(key);
  if (existing && !existing.publisher.isClosed) {
    existing.notices = notices;
    return existing.publisher;
  }
  const sink =
    options.sink ??
    createEventGridSink({
      endpoint,
      key: settings.EVENTS_TOPIC_KEY,
      clientId: env.AzureWebJobsStorage__clientId?.trim() || undefined,
    });
  const entry = { notices } as { publisher: BackgroundPublisher; notices: EventNotices };
  entry.publisher = new BackgroundPublisher(sink, {
    source: settings.EVENTS_SOURCE,
    maxQueue: settings.EVENTS_MAX_QUEUE,
    notices: {
      info: (message) => entry.notices.info(message),
      warn: (message) => entry.notices.warn(message),
    },
    ...options.publisher,
  });
  publishers.set(key, entry);
  return entry.publisher;
}
