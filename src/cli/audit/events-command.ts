// `npm run audit -- events`: the lifecycle events the local Event Grid topic received (`npm start` runs it), as a
// table or JSON lines, or followed as they arrive. An Azure topic has no read API (docs/events.md): the command
// then says how to subscribe instead. The topic key is sent in a header and never printed.
import { ConfigurationError } from '../../settings';
import { parseCommandArgs as parse, stringOption } from '../shared/args';
import { EXIT } from '../shared/exit-codes';
import { UsageError } from '../shared/usage-error';
import type { CliSession, Command } from './commands';
import {
  followEvents,
  readRecordedEvents,
  TopicAnswerError,
  TopicUnreachableError,
  type TopicAccess,
  type TopicEvent,
} from './events-stream';
import { renderEventLine, renderEvents } from './render-events';

const TYPE_PREFIX = 'dps-allocator.';

function isLoopback(endpoint: string): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(endpoint).hostname.toLowerCase());
}

function noReadApi(endpoint: string): UsageError {
  return new UsageError(
    `${endpoint} is not the local topic: Event Grid topics have no API to read events back. Subscribe a ` +
      'webhook, a Storage queue or an Event Hub to the topic and read the events there (docs/events.md); ' +
      'this command reads the local topic that `npm start` runs.',
  );
}

/** The local topic's endpoint and key, from the settings the other commands read. */
function topicAccess(session: CliSession): TopicAccess {
  const endpoint = session.settings.EVENTS_TOPIC_ENDPOINT;
  if (endpoint === undefined) {
    throw new ConfigurationError(
      'EVENTS_TOPIC_ENDPOINT is not set: start the local stack (`npm start`), which runs the local Event Grid ' +
        'topic and writes its endpoint and key to local.settings.json.',
    );
  }
  // The key is not sent to anything but the local topic.
  if (!isLoopback(endpoint)) throw noReadApi(endpoint);
  const key = session.settings.EVENTS_TOPIC_KEY;
  if (key === undefined) {
    throw new ConfigurationError(
      'EVENTS_TOPIC_KEY is not set: the local topic needs its key (`npm start` writes it to local.settings.json).',
    );
  }
  return { endpoint, key };
}

/** The failure as the operator should read it: which setting, what to start. */
function explainTopicFailure(error: unknown, endpoint: string): unknown {
  if (error instanceof TopicUnreachableError) {
    return new ConfigurationError(
      `cannot reach the local Event Grid topic at ${endpoint} (${error.code ?? error.message}). Is the local ` +
        'stack running (`npm start`)?',
    );
  }
  if (error instanceof TopicAnswerError) {
    if (error.status === 404) return noReadApi(endpoint);
    if (error.status === 401) {
      return new ConfigurationError(
        `the local topic at ${endpoint} refused EVENTS_TOPIC_KEY (401): set it to the key of the running topic ` +
          '(`npm start` writes it to local.settings.json).',
      );
    }
    return new ConfigurationError(
      `the local topic at ${endpoint} answered ${error.status}: ${error.message}`,
    );
  }
  return error;
}

function typeFilter(prefix: string | undefined): (event: TopicEvent) => boolean {
  if (prefix === undefined) return () => true;
  return (event) => event.type.startsWith(prefix) || event.type.startsWith(`${TYPE_PREFIX}${prefix}`);
}

async function follow(
  session: CliSession,
  access: TopicAccess,
  show: (event: TopicEvent) => void,
): Promise<number> {
  const stop = new AbortController();
  const interrupts = session.io.interrupts ?? process;
  const onInterrupt = () => stop.abort();
  const note = (text: string) => session.io.stderr.write(`${text}\n`);
  interrupts.once('SIGINT', onInterrupt);
  try {
    note(`Following the local topic at ${access.endpoint} (Ctrl-C stops).`);
    const outcome = await followEvents(access, { signal: stop.signal, onEvent: show, onNotice: note });
    note(outcome === 'ended' ? 'The local topic ended the stream (it stopped).' : 'Stopped.');
    return EXIT.ok;
  } finally {
    interrupts.off('SIGINT', onInterrupt);
  }
}

export const eventsCommand: Command = {
  usage: [
    'events [--follow] [--type prefix] [--json]',
    '    The lifecycle events the local Event Grid topic received, oldest first: time, type, subject and',
    '    the data in short. --follow: then each new one as it arrives, until Ctrl-C. --type: types',
    `    starting with it ('${TYPE_PREFIX}' may be left out). --json: one JSON line each. Reads`,
    '    EVENTS_TOPIC_ENDPOINT and EVENTS_TOPIC_KEY (`npm start` writes both). Azure topics have no',
    '    read API: subscribe a webhook, queue or Event Hub to them (docs/events.md).',
  ],
  async run(args, session) {
    const { values } = parse(args, {
      follow: { type: 'boolean' },
      type: { type: 'string' },
      json: { type: 'boolean' },
    });
    const prefix = stringOption(values.type);
    if (prefix !== undefined && prefix.trim() === '') throw new UsageError('--type must not be empty');
    const wanted = typeFilter(prefix);
    const access = topicAccess(session);
    const line = (event: TopicEvent) => (values.json ? JSON.stringify(event) : renderEventLine(event));
    try {
      if (values.follow) {
        return await follow(session, access, (event) => {
          if (wanted(event)) session.out(line(event));
        });
      }
      const recorded = await readRecordedEvents(access);
      const shown = recorded.filter(wanted);
      if (values.json) for (const event of shown) session.out(line(event));
      else session.out(renderEvents(shown, recorded.length, prefix));
      return EXIT.ok;
    } catch (error) {
      throw explainTopicFailure(error, access.endpoint);
    }
  },
};
