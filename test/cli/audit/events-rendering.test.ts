// The pure parts of `npm run audit -- events`: SSE messages split anywhere across chunks, and the data summary.
import { SseParser } from '../../../src/cli/audit/events-stream';
import { summarizeData } from '../../../src/cli/audit/render-events';

it('parses SSE messages whatever the chunks and line endings, skipping comments and other fields', () => {
  const parser = new SseParser();
  const text =
    ': connected\n\nid: 1\ndata: {"a":1}\n\r\nretry: 10\r\ndata:{"b":\ndata: 2}\r\r: keep-alive\n\n';
  const messages: string[] = [];
  for (const char of text) messages.push(...parser.feed(char));
  expect(messages).toEqual(['{"a":1}', '{"b":\n2}']);
  // A CRLF split between two chunks is one line ending, not two.
  expect([...parser.feed('data: a\r'), ...parser.feed('\ndata: b\r\n\r\n')]).toEqual(['a\nb']);
});

it('sums up the data by its status, error code, hub, resolution and code, else its JSON cut short', () => {
  expect(summarizeData({ enrollment: 'g', status: 'failed', errorCode: 400209 })).toBe(
    'status=failed errorCode=400209',
  );
  expect(summarizeData({ code: 'webhook-url-elsewhere', hub: 'h' })).toBe('hub=h code=webhook-url-elsewhere');
  expect(summarizeData({ other: 'x'.repeat(100) })).toMatch(/^\{"other":"x+…$/);
  expect(summarizeData({ other: 'x'.repeat(100) })).toHaveLength(80);
  expect(summarizeData(undefined)).toBe('–');
  expect(summarizeData('text')).toBe('"text"');
});
