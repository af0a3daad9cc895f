// The publish API over raw HTTP: what a malformed or refused request gets back (Event Grid's error body, the
// event index and attribute named), the media types and auth forms accepted, and that the topic goes on
// accepting good batches after bad ones.
import { startEventGridEmulator, type EventGridEmulator } from '../../../dev/event-grid-emulator';
import { cloudEvent, rawPublish } from './support';

let topic: EventGridEmulator;

beforeAll(async () => {
  topic = await startEventGridEmulator({ maxEventBytes: 2_000 });
});

afterAll(async () => {
  await topic.stop();
});

const errorOf = (json: unknown) => (json as { error: { code: string; message: string } }).error;

async function expectBadRequest(body: string, message: RegExp, contentType?: string): Promise<void> {
  const answer = await rawPublish(topic, body, { contentType });
  expect(answer.status).toBe(400);
  expect(errorOf(answer.json).code).toBe('BadRequest');
  expect(errorOf(answer.json).message).toMatch(message);
}

it('answers 200 with an empty body and records the batch', async () => {
  const answer = await rawPublish(topic, JSON.stringify([cloudEvent('ok-1'), cloudEvent('ok-2')]));
  expect(answer).toMatchObject({ status: 200, text: '' });
  expect(topic.events().map((event) => event.id)).toEqual(expect.arrayContaining(['ok-1', 'ok-2']));
});

it('accepts one event as application/cloudevents+json, a plain JSON array, and an empty batch', async () => {
  const single = await rawPublish(topic, JSON.stringify(cloudEvent('single')), {
    contentType: 'application/cloudevents+json',
  });
  const plain = await rawPublish(topic, JSON.stringify([cloudEvent('plain')]), {
    contentType: 'application/json',
  });
  const empty = await rawPublish(topic, '[]');
  expect([single.status, plain.status, empty.status]).toEqual([200, 200, 200]);
  expect(topic.events().map((event) => event.id)).toEqual(expect.arrayContaining(['single', 'plain']));
});

it('names the event and the attribute that is missing or wrong', async () => {
  const good = cloudEvent('good');
  await expectBadRequest(
    JSON.stringify([good, { ...good, type: undefined }]),
    /^Event 1: attribute 'type' is required/,
  );
  await expectBadRequest(JSON.stringify([{ ...good, id: '' }]), /^Event 0: attribute 'id' must not be empty/);
  await expectBadRequest(
    JSON.stringify([{ ...good, specversion: '0.3' }]),
    /^Event 0: attribute 'specversion' must be "1.0"/,
  );
  await expectBadRequest(
    JSON.stringify([{ ...good, source: 42 }]),
    /^Event 0: attribute 'source' must be a string/,
  );
  await expectBadRequest(
    JSON.stringify([{ ...good, time: 'yesterday' }]),
    /^Event 0: attribute 'time' must be an RFC 3339/,
  );
  await expectBadRequest(
    JSON.stringify([good, good, { ...good, Bad_Name: 1 }]),
    /^Event 2: attribute 'Bad_Name' is not a valid attribute name/,
  );
  await expectBadRequest(
    JSON.stringify([{ ...good, nested: { a: 1 } }]),
    /^Event 0: attribute 'nested' must be a string, number or boolean/,
  );
  await expectBadRequest(
    JSON.stringify([{ ...good, data: { a: 1 }, data_base64: 'AAEC' }]),
    /^Event 0: attribute 'data_base64' excludes data/,
  );
  await expectBadRequest(JSON.stringify([good, 'not an event']), /^Event 1 must be a JSON object/);
});

it('refuses a body that is not JSON, not an array, or of another media type', async () => {
  await expectBadRequest('[{"id":', /^The body is not valid JSON/);
  await expectBadRequest(JSON.stringify(cloudEvent('lone')), /must be a JSON array of CloudEvents/);
  await expectBadRequest(
    JSON.stringify([cloudEvent('x')]),
    /carries one event/,
    'application/cloudevents+json',
  );
  await expectBadRequest('[]', /Content-Type 'text\/plain' is not accepted/, 'text/plain');
});

it('answers 413 for a batch over the limit and for one event over the limit of an event', async () => {
  const huge = await rawPublish(topic, JSON.stringify([cloudEvent('huge', { data: 'x'.repeat(1_100_000) })]));
  expect(huge.status).toBe(413);
  expect(errorOf(huge.json)).toMatchObject({
    code: 'RequestEntityTooLarge',
    message: expect.stringMatching(/1048576 bytes/),
  });
  const oneTooBig = await rawPublish(
    topic,
    JSON.stringify([cloudEvent('small'), cloudEvent('big', { data: 'y'.repeat(3_000) })]),
  );
  expect(oneTooBig.status).toBe(413);
  expect(errorOf(oneTooBig.json).message).toMatch(/^Event 1 is \d+ bytes, over the limit of 2000/);
  expect(topic.events().map((event) => event.id)).not.toContain('small');
});

it('refuses a missing or wrong key with 401 in Event Grid’s error shape; accepts the key in the query', async () => {
  const body = JSON.stringify([cloudEvent('auth')]);
  const empty = await rawPublish(topic, body, { key: '' });
  const wrong = await rawPublish(topic, body, { key: 'not-the-key' });
  for (const answer of [empty, wrong]) {
    expect(answer.status).toBe(401);
    expect(answer.json).toEqual({
      error: {
        code: 'Unauthorized',
        message: expect.any(String),
        details: [expect.objectContaining({ code: 'Unauthorized' })],
      },
    });
    expect(answer.text).not.toContain(topic.key);
  }
  const none = await rawPublish(topic, body, { key: null });
  expect(none.status).toBe(401);
  expect(errorOf(none.json).message).toMatch(/carries no aeg-sas-key/);

  const byQuery = await rawPublish(topic, body, {
    key: null,
    query: `?api-version=2018-01-01&aeg-sas-key=${encodeURIComponent(topic.key)}`,
  });
  expect(byQuery.status).toBe(200);
});

it('answers a wrong path with 404, a wrong method with 405 and a wrong api-version with 400', async () => {
  const body = JSON.stringify([cloudEvent('where')]);
  const elsewhere = await rawPublish(topic, body, { path: '/api/other' });
  expect(elsewhere.status).toBe(404);
  expect(errorOf(elsewhere.json).code).toBe('NotFound');
  const get = await fetch(`${topic.endpoint}?api-version=2018-01-01`);
  expect(get.status).toBe(405);
  expect(get.headers.get('allow')).toBe('POST');
  const noVersion = await rawPublish(topic, body, { query: '' });
  expect(noVersion.status).toBe(400);
  expect(errorOf(noVersion.json).message).toMatch(/api-version query parameter is required/);
  const oldVersion = await rawPublish(topic, body, { query: '?api-version=2017-01-01' });
  expect(errorOf(oldVersion.json).message).toMatch(/'2017-01-01' is not supported; use 2018-01-01/);
  expect(topic.events().map((event) => event.id)).not.toContain('where');
});

it('goes on accepting good batches after every kind of bad one', async () => {
  await Promise.all([
    rawPublish(topic, '{{{'),
    rawPublish(topic, Buffer.from([0xff, 0xfe, 0x00, 0x5b])),
    rawPublish(topic, JSON.stringify([null])),
    rawPublish(topic, 'x'.repeat(1_200_000)),
  ]);
  const answer = await rawPublish(topic, JSON.stringify([cloudEvent('after-bad')]));
  expect(answer.status).toBe(200);
  expect(topic.events().at(-1)?.id).toBe('after-bad');
});
