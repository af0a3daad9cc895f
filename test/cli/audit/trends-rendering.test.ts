// The text of `npm run audit -- trends` for a known view: a line per day, refused requests summed, at most three
// hubs a day (busiest first), a dash for a day without allocations, totals and when each series last changed.
import { renderTrends } from '../../../src/cli/audit/render-trends';
import type { TrendsView } from '../../../src/trends/view';

const breakdown = (total: number) => ({ total, byStatus: {}, byErrorCode: {}, byEnrollment: {} });

const VIEW: TrendsView = {
  days: 2,
  from: '2026-12-06',
  to: '2026-12-07',
  problems: [
    { day: '2026-12-06', opened: breakdown(3), resolved: { ...breakdown(1), byResolution: {} } },
    { day: '2026-12-07', opened: breakdown(0), resolved: { ...breakdown(2), byResolution: {} } },
  ],
  allocations: [
    {
      day: '2026-12-06',
      total: 1500,
      byOutcome: { assigned: 1490, rejected: 6, 'invalid-request': 4 },
      byHub: { 'hub-a': 10, 'hub-b': 1200, 'hub-c': 200, 'hub-d': 80 },
    },
    { day: '2026-12-07', total: 0, byOutcome: { assigned: 0, rejected: 0, 'invalid-request': 0 }, byHub: {} },
  ],
  hubs: ['hub-a', 'hub-b', 'hub-c', 'hub-d'],
  updatedAt: { problems: '2026-12-07T06:00:00.000Z', allocations: null },
};

it('renders a line per day with totals', () => {
  expect(renderTrends(VIEW).split('\n')).toEqual([
    'DAY         OPENED  RESOLVED  ALLOCATIONS  REJECTED  TOP HUBS',
    '----------  ------  --------  -----------  --------  --------------------------------',
    '2026-12-06       3         1        1,500        10  hub-b 1,200, hub-c 200, hub-d 80',
    '2026-12-07       0         2            0         0  –',
    '',
    '2026-12-06 to 2026-12-07 (UTC): 3 problems opened, 3 resolved, 1,500 allocation requests over 4 hubs.',
    'Last changed: problems 2026-12-07T06:00:00.000Z, allocations never (the audit timer refreshes the roll-up after each scan run).',
  ]);
});
