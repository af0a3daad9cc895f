// Lifecycle events (docs/events.md): the catalog, the builders and the publisher.
export * from './catalog';
export { eventId } from './ids';
export { findingEvents, problemEvent, problemEvents } from './audit-events';
export { allocationEvent } from './allocation-events';
export type { EventNotices, EventPublisher, EventSink, PublisherOptions, PublisherStats } from './publisher';
export { BackgroundPublisher, noopPublisher } from './publisher';
export { consoleEventNotices, eventPublisherFromSettings } from './from-settings';
