// `npm run audit -- trends [--days N] [--json]`: the daily roll-up (src/trends) as a table or as the JSON the
// HTTP API answers (GET /api/trends).
import { countInput } from '../../http/inputs';
import { trendsSourcesFor } from '../../trends/store';
import { DEFAULT_TREND_DAYS, MAX_TREND_DAYS, readTrends } from '../../trends/view';
import { parseCommandArgs as parse, validatedOption as option } from '../shared/args';
import { EXIT } from '../shared/exit-codes';
import type { Command } from './commands';
import { renderTrends } from './render-trends';

export const trendsCommand: Command = {
  usage: [
    'trends [--days n] [--json]',
    '    Per UTC day, oldest first: problems opened and resolved, allocation requests (and how many',
    `    were refused), the busiest hubs. --days: default ${DEFAULT_TREND_DAYS}, at most ${MAX_TREND_DAYS}. Kept by the audit timer.`,
  ],
  async run(args, session) {
    const { values } = parse(args, { days: { type: 'string' }, json: { type: 'boolean' } });
    const days = option(countInput(MAX_TREND_DAYS), values, 'days') ?? DEFAULT_TREND_DAYS;
    session.readStore(); // not read: its endpoint explains a storage error
    const view = await readTrends(trendsSourcesFor(session.settings, session.env, 'reads').trends, days);
    session.out(values.json ? JSON.stringify(view, null, 2) : renderTrends(view));
    return EXIT.ok;
  },
};
