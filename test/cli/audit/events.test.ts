// `npm run audit -- events` in-process against the local Event Grid topic emulator: the recorded events as a table
// and as JSON lines, --type, --follow until Ctrl-C or the end of the stream, reconnects without repeats, and the
// one-line errors (no endpoint, an Azure topic, a wrong key, nothing listening). The key is never printed.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEventGridEmulator, type EventGridEmulator } from '../../../dev/event-grid-emulator';
import { main } from '../../../src/cli/audit/main';
import { closedPort } from '../../support/closed-port';
import { publisher } from '../../dev/event-grid-emulator/support';

let topic: EventGridEmulator;
let folder: string;

/** A text sink whose `seen(pattern)` resolves once what was written matches. */
function sink() {
  let text = '';
  const waiting: { pattern: RegExp; resolve: () => void }[] = [];
  return {
    get text() {
      return text;
    },
    write(chunk: string) {
      text += chunk;
      for (const waiter of [...waiting]) {
        if (waiter.pattern.test(text)) {
          waiting.splice(waiting.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    },
    seen(pattern: RegExp): Promise<void> {
      return pattern.test(text)
        ? Promise.resolve()
        : new Promise((resolve) => waiting.push({ pattern, resolve }));
    },
  };
}

function run(argv: string[], env: NodeJS.ProcessEnv, interrupts = new EventEmitter()) {
  const stdout = sink();
  const stderr = sink();
  const code = main(argv, { stdout, stderr, env, cwd: folder, interrupts });
  return { code, stdout, stderr, interrupts };
}

async function audit(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const started = run(argv, env);
  return { code: await started.code, stdout: started.stdout.text, stderr: started.stderr.text };
}

const topicEnv = (emulator: EventGridEmulator, key = emulator.key) => ({
  EVENTS_TOPIC_ENDPOINT: emulator.endpoint,
  EVENTS_TOPIC_KEY: key,
});

function lifecycleEvent(n: number, type: string, data: Record<string, unknown>) {
  return {
    id: `cli-${n}`,
    source: '/dps-allocator/cli-test',
    type,
    subject: `device-${n}`,
    time: new Date(Date.UTC(2026, 11, 7, 6, 0, n)),
    data,
  };
}

beforeAll(async () => {
  topic = await startEventGridEmulator();
  folder = mkdtempSync(path.join(os.tmpdir(), 'events-cli-'));
  // As `npm start` leaves it: the endpoint and key in local.settings.json.
  writeFileSync(
    path.join(folder, 'local.settings.json'),
    JSON.stringify({ IsEncrypted: false, Values: topicEnv(topic) }),
  );
  await publisher(topic).send([
    lifecycleEvent(1, 'dps-allocator.problem.opened', {
      status: 'failed',
      errorCode: 400209,
      enrollment: 'g',
    }),
    lifecycleEvent(2, 'dps-allocator.device.assigned', { hub: 'hub-a.azure-devices.net' }),
    lifecycleEvent(3, 'dps-allocator.problem.resolved', { resolution: 'assigned' }),
  ]);
});

afterAll(async () => {
  await topic?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

it('prints the recorded events as a table: time, type, subject and the data in short', async () => {
  const result = await audit(['events']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  const lines = result.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^TIME +TYPE +SUBJECT +DATA$/);
  expect(lines.slice(2, 5).map((line) => line.split(/ {2,}/))).toEqual([
    ['2026-12-07 06:00:01Z', 'dps-allocator.problem.opened', 'device-1', 'status=failed errorCode=400209'],
    ['2026-12-07 06:00:02Z', 'dps-allocator.device.assigned', 'device-2', 'hub=hub-a.azure-devices.net'],
    ['2026-12-07 06:00:03Z', 'dps-allocator.problem.resolved', 'device-3', 'resolution=assigned'],
  ]);
  expect(lines.at(-1)).toBe('3 events, oldest first.');
  expect(result.stdout).not.toContain(topic.key);
});

it('prints JSON lines with --json, and only the types --type starts with', async () => {
  const json = await audit(['events', '--json', '--type', 'problem.']);
  expect(json.code).toBe(0);
  const events = json.stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; data: unknown; receivedAt: string });
  expect(events.map((event) => event.id)).toEqual(['cli-1', 'cli-3']);
  expect(events[0]).toMatchObject({
    data: { status: 'failed', errorCode: 400209 },
    receivedAt: expect.any(String),
  });

  const table = await audit(['events', '--type', 'dps-allocator.device']);
  expect(table.stdout).toMatch(/dps-allocator\.device\.assigned/);
  expect(table.stdout).toMatch(/1 event \(of 3 recorded\), oldest first\.$/m);
  const none = await audit(['events', '--type', 'enrollment.']);
  expect(none.stdout).toBe("No events of a type starting with 'enrollment.' among the 3 recorded.\n");
});

it('follows: the recorded events, then each new one as it arrives, until Ctrl-C', async () => {
  const following = run(['events', '--follow', '--type', 'problem.'], {});
  await following.stdout.seen(/cli-3|device-3/);
  await publisher(topic).send([
    lifecycleEvent(4, 'dps-allocator.device.moved', { hub: 'hub-b.azure-devices.net' }),
    lifecycleEvent(5, 'dps-allocator.problem.changed', { status: 'failed', errorCode: 400208 }),
  ]);
  await following.stdout.seen(/device-5/);
  following.interrupts.emit('SIGINT');
  expect(await following.code).toBe(0);
  const lines = following.stdout.text.trimEnd().split('\n');
  expect(lines.map((line) => line.split(/ {2,}/)[2])).toEqual(['device-1', 'device-3', 'device-5']);
  expect(lines[2]).toMatch(
    /^2026-12-07 06:00:05Z +dps-allocator\.problem\.changed +device-5 +status=failed errorCode=400208$/,
  );
  expect(following.stderr.text).toMatch(
    /^Following the local topic at http:\/\/127\.0\.0\.1:\d+\/api\/events/,
  );
  expect(following.stderr.text).toMatch(/Stopped\.\n$/);
  expect(following.interrupts.listenerCount('SIGINT')).toBe(0);
});

it('ends with exit code 0 and says so when the topic ends the stream', async () => {
  const own = await startEventGridEmulator();
  try {
    await publisher(own).send([lifecycleEvent(9, 'dps-allocator.device.assigned', { hub: 'h' })]);
    const following = run(['events', '--follow', '--json'], topicEnv(own));
    await following.stdout.seen(/"cli-9"/);
    await own.stop();
    expect(await following.code).toBe(0);
    expect(following.stderr.text).toMatch(/The local topic ended the stream \(it stopped\)\.\n$/);
    expect(JSON.parse(following.stdout.text.trim())).toMatchObject({ id: 'cli-9' });
  } finally {
    await own.stop();
  }
});

it('reconnects when the connection drops, and prints each event once', async () => {
  // A stand-in topic: the first stream is cut after two events, the second replays them, adds one and ends.
  const message = (n: number) =>
    `id: cli-${n}\ndata: ${JSON.stringify({ ...lifecycleEvent(n, 'dps-allocator.device.assigned', { hub: `hub-${n}` }), specversion: '1.0' })}\n\n`;
  let connections = 0;
  const server = http.createServer((request, response) => {
    connections += 1;
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    if (connections === 1) response.write(message(1) + message(2), () => response.socket?.destroy());
    else response.end(message(1) + message(2) + message(3));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const following = run(['events', '--follow'], {
      EVENTS_TOPIC_ENDPOINT: `http://127.0.0.1:${port}/api/events`,
      EVENTS_TOPIC_KEY: 'stand-in-key',
    });
    expect(await following.code).toBe(0);
    const subjects = following.stdout.text
      .trimEnd()
      .split('\n')
      .map((line) => line.split(/ {2,}/)[2]);
    expect(subjects).toEqual(['device-1', 'device-2', 'device-3']);
    expect(following.stderr.text).toMatch(
      /the connection to the topic dropped .*; reconnecting in 0\.5 s \(1\/5\)/,
    );
    expect(connections).toBe(2);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('what stops it', () => {
  it('names EVENTS_TOPIC_ENDPOINT and `npm start` when the endpoint is not set', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'events-cli-empty-'));
    try {
      let stderr = '';
      const code = await main(['events'], {
        stdout: { write: () => undefined },
        stderr: { write: (text: string) => (stderr += text) },
        env: {},
        cwd: empty,
      });
      expect(code).toBe(1);
      expect(stderr).toMatch(
        /^audit events: EVENTS_TOPIC_ENDPOINT is not set: start the local stack \(`npm start`\)/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('says an Azure topic has no read API, without calling it', async () => {
    const result = await audit(['events', '--follow'], {
      EVENTS_TOPIC_ENDPOINT: 'https://egt-dps.westeurope-1.eventgrid.azure.net/api/events',
      EVENTS_TOPIC_KEY: 'azure-topic-key',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /is not the local topic: Event Grid topics have no API to read events back/,
    );
    expect(result.stderr).toMatch(
      /Subscribe a webhook, a Storage queue or an Event Hub .*\(docs\/events\.md\)/,
    );
    expect(result.stderr).not.toContain('azure-topic-key');
  });

  it('says the same of a local endpoint that answers 404 on the read paths', async () => {
    const server = http.createServer((_request, response) => response.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const env = { EVENTS_TOPIC_ENDPOINT: `http://127.0.0.1:${port}/api/events`, EVENTS_TOPIC_KEY: 'k' };
      for (const argv of [['events'], ['events', '--follow']]) {
        const result = await audit(argv, env);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/no API to read events back/);
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('says the key was refused, without printing it', async () => {
    const wrongKey = Buffer.alloc(32, 9).toString('base64');
    for (const argv of [['events'], ['events', '--follow']]) {
      const result = await audit(argv, topicEnv(topic, wrongKey));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/refused EVENTS_TOPIC_KEY \(401\)/);
      expect(result.stderr + result.stdout).not.toContain(wrongKey);
    }
  });

  it('asks whether the local stack is running when nothing listens', async () => {
    const port = await closedPort();
    const env = { EVENTS_TOPIC_ENDPOINT: `http://127.0.0.1:${port}/api/events`, EVENTS_TOPIC_KEY: 'k' };
    for (const argv of [['events'], ['events', '--follow']]) {
      const result = await audit(argv, env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /cannot reach the local Event Grid topic at .* \(ECONNREFUSED\)\. Is the local stack running \(`npm start`\)\?/,
      );
    }
  });

  it('refuses an empty --type and unknown options', async () => {
    expect((await audit(['events', '--type', ' '])).code).toBe(2);
    expect((await audit(['events', '--tail'])).stderr).toMatch(/Unknown option '--tail'/);
  });
});
