// `npm run audit -- hubs` as text: one line per hub (devices, cap, fill, drain, when the count was read and its
// age), then the hubs whose last read failed and why, and the hubs whose counts are not read.
import type { HubReportEntry, HubsReport } from '../../hub-load/report';
import { formatCount, formatPercent, NOT_APPLICABLE, renderTable, type Column } from '../shared/format-table';
import { formatDuration, formatTime } from './render';

const orNone = (value: string | null) => value ?? NOT_APPLICABLE;

function age(hub: HubReportEntry): string {
  if (hub.ageSeconds === null) return hub.counted ? 'never read' : NOT_APPLICABLE;
  return `${formatDuration(hub.ageSeconds * 1000)}${hub.stale ? ' (stale)' : ''}`;
}

export function renderHubs(report: HubsReport): string {
  if (report.hubs.length === 0) {
    return 'No hubs: HUB_LOAD_HUBS is empty and the allocation policy names no hub.';
  }
  const columns: Column[] = [
    { header: 'HUB' },
    { header: 'ALIAS' },
    { header: 'DEVICES', align: 'right' },
    { header: 'CAP', align: 'right' },
    { header: 'FILL', align: 'right' },
    { header: 'DRAIN' },
    { header: 'READ' },
    { header: 'AGE' },
  ];
  const table = renderTable(
    columns,
    report.hubs.map((hub) => [
      hub.hostName,
      orNone(hub.alias),
      hub.devices === null ? NOT_APPLICABLE : formatCount(hub.devices),
      hub.maxDevices === null ? NOT_APPLICABLE : formatCount(hub.maxDevices),
      hub.fill === null ? NOT_APPLICABLE : formatPercent(hub.fill),
      hub.drain ? 'yes' : NOT_APPLICABLE,
      hub.readAt === null ? NOT_APPLICABLE : formatTime(new Date(hub.readAt)),
      age(hub),
    ]),
  );
  const lines = [
    table,
    '',
    `Counts older than ${formatDuration(report.maxAgeSeconds * 1000)} are stale: capacity-aware strategies then ` +
      'fall back to the hash.',
  ];
  const failed = report.hubs.filter((hub) => hub.lastError !== null);
  if (failed.length > 0) {
    lines.push('', 'Last read failed:', ...failed.map((hub) => `  ${hub.hostName}: ${hub.lastError}`));
  }
  const uncounted = report.hubs.filter((hub) => !hub.counted).map((hub) => hub.hostName);
  if (uncounted.length > 0) lines.push('', `Not in HUB_LOAD_HUBS (no counts read): ${uncounted.join(', ')}.`);
  if (report.policyError !== undefined) {
    lines.push(
      '',
      `The allocation policy cannot be read (caps and drain flags unknown): ${report.policyError}`,
    );
  }
  return lines.join('\n');
}
