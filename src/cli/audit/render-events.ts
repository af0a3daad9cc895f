// `npm run audit -- events` as text: one line per lifecycle event (when it happened, its type, its subject, the
// data in short), as a table for the recorded events or line by line while following.
import { formatCount, NOT_APPLICABLE, renderTable, type Column } from '../shared/format-table';
import type { TopicEvent } from './events-stream';
import { formatTime } from './render';

/** The data members the summary shows, in this order (docs/events.md lists each event's data). */
const SUMMARY_KEYS = ['status', 'errorCode', 'hub', 'resolution', 'code'] as const;
const MAX_SUMMARY = 80;

const COLUMNS: Column[] = [{ header: 'TIME' }, { header: 'TYPE' }, { header: 'SUBJECT' }, { header: 'DATA' }];
/** Widths of the first three columns while following (the longest type is 39 characters). */
const FOLLOW_WIDTHS = [20, 40, 24];

const cut = (text: string) => (text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text);

/** `status=failed errorCode=400209`, or the data's JSON cut short when it has none of those members. */
export function summarizeData(data: unknown): string {
  if (data === undefined || data === null) return NOT_APPLICABLE;
  if (typeof data !== 'object' || Array.isArray(data)) return cut(JSON.stringify(data));
  const members = data as Record<string, unknown>;
  const shown = SUMMARY_KEYS.filter((key) =>
    ['string', 'number', 'boolean'].includes(typeof members[key]),
  ).map((key) => `${key}=${String(members[key])}`);
  return cut(shown.length > 0 ? shown.join(' ') : JSON.stringify(data));
}

/** When the fact happened (the event's time), else when the topic received it. */
function eventTime(event: TopicEvent): string {
  const text = event.time ?? event.receivedAt;
  const date = text === undefined ? undefined : new Date(text);
  return date === undefined || Number.isNaN(date.getTime()) ? (text ?? NOT_APPLICABLE) : formatTime(date);
}

function eventCells(event: TopicEvent): string[] {
  return [eventTime(event), event.type, event.subject ?? NOT_APPLICABLE, summarizeData(event.data)];
}

/** One line while following: the table's columns at fixed widths. */
export function renderEventLine(event: TopicEvent): string {
  return eventCells(event)
    .map((cell, i) => cell.padEnd(FOLLOW_WIDTHS[i] ?? 0))
    .join('  ')
    .trimEnd();
}

export function renderEvents(
  events: readonly TopicEvent[],
  recorded: number,
  typePrefix: string | undefined,
): string {
  if (events.length === 0) {
    return typePrefix === undefined
      ? 'The local topic has recorded no events yet (it keeps what it received since it started).'
      : `No events of a type starting with '${typePrefix}' among the ${formatCount(recorded)} recorded.`;
  }
  const count = `${formatCount(events.length)} event${events.length === 1 ? '' : 's'}`;
  const of = events.length === recorded ? '' : ` (of ${formatCount(recorded)} recorded)`;
  return [renderTable(COLUMNS, events.map(eventCells)), '', `${count}${of}, oldest first.`].join('\n');
}
