// The local Event Grid topic: the functions publish their lifecycle events to it (docs/events.md) and the stack
// prints each one as it arrives, so the demo's events show in the terminal. Its key is kept in the data folder, so
// that EVENTS_TOPIC_KEY in local.settings.json (and `npm run audit -- events --follow` beside) stays valid.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  startEventGridEmulator,
  type CloudEventRecord,
  type EventGridEmulator,
} from '../event-grid-emulator';
import type { LocalDefault } from './settings-part';
import type { LocalStackPart } from './types';

/** The topic's usual port locally: http://127.0.0.1:8445/api/events. */
export const DEFAULT_EVENTS_PORT = 8445;

export interface EventsPart extends LocalStackPart {
  topic: EventGridEmulator;
  /** EVENTS_TOPIC_ENDPOINT and EVENTS_TOPIC_KEY for the functions and the CLIs. */
  settings: LocalDefault[];
}

async function loadOrCreateKey(file: string): Promise<string> {
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key !== '') return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32).toString('base64');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}

export async function startEventsPart(options: {
  port: number;
  keyFile: string;
  /** Renders one event as a terminal line; the stack prints it. */
  describe: (event: CloudEventRecord) => string;
  print: (line: string) => void;
}): Promise<EventsPart> {
  const key = await loadOrCreateKey(options.keyFile);
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
