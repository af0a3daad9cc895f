// The emulator's pure parts: the SAS expiry as the SDK writes it, SAS tokens checked against the key, and SSE
// messages for ids SSE cannot carry.
import { createHmac } from 'node:crypto';
import { generateSharedAccessSignature, AzureKeyCredential } from '@azure/eventgrid';
import { parseSasExpiry, sasTokenProblem } from '../../../dev/event-grid-emulator/auth';
import { sseMessage } from '../../../dev/event-grid-emulator/stream';

const KEY = Buffer.alloc(32, 3).toString('base64');
const NOW = new Date('2026-12-07T06:00:00Z');

it('reads the expiry in the SDK’s "M/d/yyyy h:mm:ss AM" form, midnight and noon included, and ISO 8601', () => {
  expect(parseSasExpiry('6/5/2020 12:09:03 PM')?.toISOString()).toBe('2020-06-05T12:09:03.000Z');
  expect(parseSasExpiry('12/31/2026 12:00:00 AM')?.toISOString()).toBe('2026-12-31T00:00:00.000Z');
  expect(parseSasExpiry('1/2/2027 11:59:59 PM')?.toISOString()).toBe('2027-01-02T23:59:59.000Z');
  expect(parseSasExpiry('2027-01-02T03:04:05Z')?.toISOString()).toBe('2027-01-02T03:04:05.000Z');
  expect(parseSasExpiry('tomorrow')).toBeUndefined();
});

it('accepts the SDK’s token for the topic path on any host, and says what is wrong with others', async () => {
  const credential = new AzureKeyCredential(KEY);
  const later = new Date(NOW.getTime() + 3_600_000);
  const token = await generateSharedAccessSignature('http://localhost:8445/api/events', credential, later);
  expect(sasTokenProblem(token, KEY, '/api/events', NOW)).toBeUndefined();
  expect(sasTokenProblem(token, Buffer.alloc(32, 4).toString('base64'), '/api/events', NOW)).toMatch(
    /signature does not match/,
  );
  expect(sasTokenProblem(token, KEY, '/api/events', new Date(later.getTime() + 1000))).toMatch(/expired/);
  const other = await generateSharedAccessSignature('http://localhost:8445/api/other', credential, later);
  expect(sasTokenProblem(other, KEY, '/api/events', NOW)).toMatch(/another topic/);
  expect(sasTokenProblem('r=x&e=y', KEY, '/api/events', NOW)).toMatch(/no signature/);
  const unsigned = `r=${encodeURIComponent('http://h/api/events')}&e=${encodeURIComponent('not a date')}`;
  const signed = `${unsigned}&s=${encodeURIComponent(createHmac('sha256', Buffer.from(KEY, 'base64')).update(unsigned).digest('base64'))}`;
  expect(sasTokenProblem(signed, KEY, '/api/events', NOW)).toMatch(/expiry \(e=\) cannot be read/);
});

it('writes one SSE message per event, leaving out an id SSE cannot carry', () => {
  const event = {
    id: 'a',
    source: '/s',
    specversion: '1.0' as const,
    type: 't',
    data: 'two\nlines',
    receivedAt: 'r',
  };
  expect(sseMessage(event)).toBe(`id: a\ndata: ${JSON.stringify(event)}\n\n`);
  expect(sseMessage({ ...event, id: 'bad\nid' })).toMatch(/^data: /);
});
