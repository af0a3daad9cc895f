// What a publish body must be: a JSON array of CloudEvents 1.0 in the JSON format (docs/events-contract.md §1),
// each within the size limit of one event (§2.3). The first problem found is the answer, naming the event's
// index and the attribute, so a publisher sees what to fix.
import { z } from 'zod';
import { topicBadRequest, topicTooLarge } from './errors';

/** One CloudEvent as the JSON format carries it: the attributes as members, the payload in data or data_base64. */
export interface CloudEvent {
  id: string;
  source: string;
  specversion: '1.0';
  type: string;
  subject?: string;
  time?: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: unknown;
  data_base64?: string;
  /** Extension attributes (traceparent, tracestate, …): lower-case letters and digits, primitive values. */
  [extension: string]: unknown;
}

/** Publish media types (docs/events-contract.md §1, §2.2): a batch, one event, or a plain JSON array. */
const BATCH_TYPES = new Set(['application/cloudevents-batch+json', 'application/json']);
const SINGLE_TYPE = 'application/cloudevents+json';

/** CloudEvents attribute names: lower-case ASCII letters and digits [CE]; `data_base64` is the JSON format's. */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

const required = (what: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be a string (${what})`) })
    .min(1, 'must not be empty');
const optionalString = (what: string) => z.string({ error: `must be a string (${what})` }).optional();

const KNOWN = new Set([
  'id',
  'source',
  'specversion',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  'data',
  'data_base64',
]);

const cloudEventSchema = z
  .looseObject(
    {
      id: required('the event id'),
      source: required('a URI reference'),
      specversion: z.literal('1.0', {
        error: (issue) => (issue.input === undefined ? 'is required' : 'must be "1.0"'),
      }),
      type: required('the event type'),
      subject: optionalString('the subject'),
      time: z.iso
        .datetime({ offset: true, error: 'must be an RFC 3339 timestamp, e.g. 2026-12-07T06:00:00Z' })
        .optional(),
      datacontenttype: optionalString('a media type'),
      dataschema: optionalString('a URI'),
      data_base64: z.base64({ error: 'must be base64 text' }).optional(),
    },
    { error: 'must be a JSON object' },
  )
  .superRefine((event, context) => {
    for (const [name, value] of Object.entries(event)) {
      if (KNOWN.has(name)) continue;
      if (!ATTRIBUTE_NAME.test(name)) {
        context.addIssue({
          code: 'custom',
          path: [name],
          message: 'is not a valid attribute name: CloudEvents names are lower-case ASCII letters and digits',
        });
      } else if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
        context.addIssue({
          code: 'custom',
          path: [name],
          message: 'must be a string, number or boolean (an extension attribute)',
        });
      }
    }
    if (Object.hasOwn(event, 'data') && Object.hasOwn(event, 'data_base64')) {
      context.addIssue({ code: 'custom', path: ['data_base64'], message: 'excludes data: give one of them' });
    }
  });

/** Why the event at `index` is not a CloudEvent: `Event 2: attribute 'type' is required`. */
function eventProblem(index: number, error: z.ZodError): string {
  const issue = error.issues[0];
  const attribute = issue?.path[0];
  const text = issue?.message ?? 'is not valid';
  const name = String(attribute ?? '').slice(0, 64);
  return attribute === undefined ? `Event ${index} ${text}` : `Event ${index}: attribute '${name}' ${text}`;
}

export interface BatchLimits {
  /** Largest serialised event. Event Grid: 1 MB (docs/events-contract.md §2.3). */
  maxEventBytes: number;
}

/** The media type of a Content-Type header, lower-cased, and whether its charset (if any) is UTF-8. */
function mediaType(contentType: string | undefined): { type: string; utf8: boolean } {
  const [type = '', ...parameters] = (contentType ?? '').split(';').map((part) => part.trim());
  const charset = parameters
    .map((parameter) => /^charset=("?)([^"]*)\1$/i.exec(parameter)?.[2])
    .find((value) => value !== undefined);
  return { type: type.toLowerCase(), utf8: charset === undefined || /^utf-?8$/i.test(charset) };
}

/** The events of a publish body; throws a 400 or 413 TopicHttpError that says what is wrong. */
export function parseBatch(body: Buffer, contentType: string | undefined, limits: BatchLimits): CloudEvent[] {
  const media = mediaType(contentType);
  const single = media.type === SINGLE_TYPE;
  if (!single && !BATCH_TYPES.has(media.type)) {
    throw topicBadRequest(
      `Content-Type '${media.type.slice(0, 100) || '(none)'}' is not accepted: send ` +
        'application/cloudevents-batch+json (a JSON array of CloudEvents)',
    );
  }
  if (!media.utf8) throw topicBadRequest('The body must be UTF-8 (charset=utf-8)');
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (error) {
    throw topicBadRequest(`The body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  if (single && Array.isArray(json)) {
    throw topicBadRequest('application/cloudevents+json carries one event (a JSON object), not an array');
  }
  if (!single && !Array.isArray(json)) {
    throw topicBadRequest(`${media.type} must be a JSON array of CloudEvents (a batch), even for one event`);
  }
  const values: unknown[] = single ? [json] : (json as unknown[]);
  return values.map((value, index) => {
    const parsed = cloudEventSchema.safeParse(value);
    if (!parsed.success) throw topicBadRequest(eventProblem(index, parsed.error));
    const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
    if (bytes > limits.maxEventBytes) {
      throw topicTooLarge(
        `Event ${index} is ${bytes} bytes, over the limit of ${limits.maxEventBytes} for one event`,
      );
    }
    // Kept as received, extensions included: subscribers see what the publisher sent.
    return value as CloudEvent;
  });
}
