// The local Event Grid topic: the functions publish their lifecycle events to it (docs/events.md) and the stack
// prints each one as it arrives, so the demo's events show in the terminal. Its key is kept in the data folder, so
// that EVENTS_TOPIC_KEY in local.settings.json (and `npm run audit -- events --follow` beside) stays valid.
import {
  startEventGridEmulator,
  type CloudEventRecord,
  type EventGridEmulator,
} from '../event-grid-emulator';
import type { LocalDefault } from './settings-part';
import { loadOrCreateKey } from './stored-key';
import type { LocalStackPart } from './types';

/** The topic's usual port locally: http://127.0.0.1:8445/api/events. */
export const DEFAULT_EVENTS_PORT = 8445;

export interface EventsPart extends LocalStackPart {
  topic: EventGridEmulator;
  /** EVENTS_TOPIC_ENDPOINT and EVENTS_TOPIC_KEY for the functions and the CLIs. */
  settings: LocalDefault[];
}

export async function startEventsPart(options: {
  port: number;
  keyFile: string;
  /** Renders one event as a terminal line; the stack prints it. */
  describe: (event: CloudEventRecord) => string;
  print: (line: string) => void;
}): Promise<EventsPart> {
  // base64: the key also signs SAS tokens, which the SDK decodes as base64.
  const key = await loadOrCreateKey(options.keyFile, 'base64');
  let topic: EventGridEmulator;
  try {
    topic = await startEventGridEmulator({ port: options.port, key });
  } catch (error) {
    throw new Error(
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? `The local Event Grid topic cannot listen on 127.0.0.1:${options.port}: the port is in use. Stop ` +
            'what holds it, or give --events-port <n> (0 = any free port).'
        : `The local Event Grid topic did not start: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const unsubscribe = topic.subscribe((event) => options.print(options.describe(event)));
  return {
    name: 'Event Grid topic',
    topic,
    settings: [
      { name: 'EVENTS_TOPIC_ENDPOINT', value: topic.endpoint, writeToFile: true, showValue: true },
      { name: 'EVENTS_TOPIC_KEY', value: topic.key, writeToFile: true },
    ],
    banner: [
      `Event Grid topic (local): ${topic.endpoint}; lifecycle events print here as they arrive, ` +
        '`npm run audit -- events --follow` tails them (docs/events.md)',
    ],
    stop: async () => {
      unsubscribe();
      await topic.stop();
    },
  };
}
