// Text rendering of a simulation: the hub distribution, and for a comparison the moves between hubs.
import { formatCount, formatPercent, NOT_APPLICABLE, renderTable, type Column } from '../shared/format-table';
import type { Comparison, HubLoadTally, ScenarioResult, SimulationResult } from './simulate';

const SHOWN_REASONS = 5;

export function renderSimulation(result: SimulationResult): string {
  const { before, after, comparison } = result;
  const sections = [
    [
      `Simulated ${formatCount(result.devices)} devices (ids ${result.ids}; enrollment group '${result.groupId}', ${attestationOf(result)}${result.payload ? ', with payload' : ''}; initial assignment).`,
      ...(after
        ? [`Before: ${describeScenario(before)}`, `After:  ${describeScenario(after, before)}`]
        : [capitalized(describeScenario(before))]),
    ].join('\n'),
    distributionTable(result),
  ];
  for (const [label, scenario] of [
    [after ? 'before' : '', before],
    ['after', after],
  ] as const) {
    if (scenario?.hubLoad) sections.push(hubLoadTable(scenario.hubLoad, label));
  }
  if (!before.hubLoad && (before.capacityAware || after?.capacityAware)) {
    sections.push(
      'No --hub-load: decided as allocate does before it has hub device counts (maxDevices not checked, leastLoaded hashes); --hub-load <host>=<devices>,... gives counts.',
    );
  }
  if (after && comparison) {
    sections.push(
      renderComparison(
        comparison,
        result.devices,
        before.hubs.map((h) => h.hub),
      ),
    );
  }
  sections.push(rulesTable(before, after));
  for (const [label, scenario] of [
    [after ? 'before' : '', before],
    ['after', after],
  ] as const) {
    if (scenario?.organisations) sections.push(organisationsTable(scenario, label));
  }
  for (const [label, scenario] of [
    [after ? 'before' : '', before],
    ['after', after],
  ] as const) {
    if (scenario && scenario.rejected.devices > 0) sections.push(reasonsList(scenario, label));
  }
  sections.push(
    `Expected: the share that hub weights give to hashed choices; ${NOT_APPLICABLE} where another strategy can choose the hub or it is not linked.`,
  );
  return sections.join('\n\n');
}

function attestationOf(result: SimulationResult): string {
  return result.certificates === null
    ? 'symmetric key'
    : `X.509: ${result.certificates}; expiry judged at ${result.evaluatedAt}`;
}

/** Rows: the linked hubs; columns: devices before and after the fleet landed, the cap, and how full. */
function hubLoadTable(tallies: readonly HubLoadTally[], label: string): string {
  const columns: Column[] = [
    { header: `Hub load${label ? ` (${label})` : ''}` },
    { header: 'Start', align: 'right' },
    { header: 'Added', align: 'right' },
    { header: 'End', align: 'right' },
    { header: 'maxDevices', align: 'right' },
    { header: 'Fill', align: 'right' },
    { header: 'State' },
  ];
  const rows = tallies.map((tally) => [
    tally.hub,
    formatCount(tally.start),
    formatCount(tally.added),
    formatCount(tally.end),
    tally.maxDevices === null ? NOT_APPLICABLE : formatCount(tally.maxDevices),
    tally.fill === null ? NOT_APPLICABLE : formatPercent(tally.fill),
    tally.draining ? 'draining' : tally.fill !== null && tally.fill >= 1 ? 'full' : '',
  ]);
  return renderTable(columns, rows);
}

/** Rows: certificate organisations; columns: the linked hubs, then rejected devices. */
function organisationsTable(scenario: ScenarioResult, label: string): string {
  const linked = scenario.hubs.filter((hub) => hub.linked).map((hub) => hub.hub);
  const columns: Column[] = [
    { header: `Certificate O${label ? ` (${label})` : ''}` },
    ...linked.map((hub) => ({ header: hub, align: 'right' as const })),
    { header: '(rejected)', align: 'right' },
  ];
  const rows = (scenario.organisations ?? []).map((tally) => [
    tally.organisation,
    ...linked.map((hub) => formatCount(tally.hubs.find((entry) => entry.hub === hub)?.devices ?? 0)),
    formatCount(tally.rejected),
  ]);
  return renderTable(columns, rows);
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function describeScenario(scenario: ScenarioResult, other?: ScenarioResult): string {
  let hubs = scenario.linkedHubs.join(', ');
  if (other) {
    const added = scenario.linkedHubs.filter((hub) => !other.linkedHubs.includes(hub));
    const removed = other.linkedHubs.filter((hub) => !scenario.linkedHubs.includes(hub));
    const changes = [...added.map((hub) => `+${hub}`), ...removed.map((hub) => `-${hub}`)];
    if (changes.length > 0) hubs += ` (${changes.join(', ')})`;
  }
  const policy =
    other && other.policySource === scenario.policySource ? 'same policy' : `policy ${scenario.policySource}`;
  return `${policy}; linked hubs ${hubs || '(none)'}`;
}

function distributionTable({ before, after, devices }: SimulationResult): string {
  const scenarios = after ? [before, after] : [before];
  const columns: Column[] = [{ header: 'Hub' }];
  for (const scenario of scenarios) {
    columns.push(
      { header: scenario === before ? (after ? 'Before' : 'Devices') : 'After', align: 'right' },
      { header: 'Share', align: 'right' },
      { header: 'Expected', align: 'right' },
    );
  }
  const rows = before.hubs.map((hubRow, i) => [
    hubRow.hub,
    ...scenarios.flatMap((scenario) => {
      const tally = scenario.hubs[i]!;
      if (!tally.linked) return [NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE];
      return [
        formatCount(tally.devices),
        formatPercent(tally.share),
        tally.expectedShare === null ? NOT_APPLICABLE : formatPercent(tally.expectedShare),
      ];
    }),
  ]);
  rows.push([
    '(rejected)',
    ...scenarios.flatMap((s) => [formatCount(s.rejected.devices), formatPercent(s.rejected.share), '']),
  ]);
  rows.push(['Total', ...scenarios.flatMap(() => [formatCount(devices), formatPercent(1), ''])]);
  return renderTable(columns, rows);
}

function renderComparison(comparison: Comparison, devices: number, hubOrder: readonly string[]): string {
  const lines = [
    `Moved: ${formatCount(comparison.moved)} of ${formatCount(devices)} devices (${formatPercent(comparison.movedShare)})`,
  ];
  if (comparison.moves.length > 0) lines.push('', movesMatrix(comparison, hubOrder));
  const total = (list: { devices: number }[]) => list.reduce((sum, entry) => sum + entry.devices, 0);
  const breakdown = (list: { hub: string; devices: number }[]) =>
    list.length === 0 ? '' : ` (${list.map((e) => `${e.hub}: ${formatCount(e.devices)}`).join(', ')})`;
  lines.push(
    '',
    `Newly rejected: ${formatCount(total(comparison.newlyRejected))}${breakdown(
      comparison.newlyRejected.map((e) => ({ hub: `from ${e.from}`, devices: e.devices })),
    )}`,
    `Newly assigned: ${formatCount(total(comparison.newlyAssigned))}${breakdown(
      comparison.newlyAssigned.map((e) => ({ hub: `to ${e.to}`, devices: e.devices })),
    )}`,
  );
  return lines.join('\n');
}

/** Rows: the hub devices leave; columns: the hub they go to. Only hubs with moves appear. */
function movesMatrix({ moves }: Comparison, hubOrder: readonly string[]): string {
  const from = hubOrder.filter((hub) => moves.some((m) => m.from === hub));
  const to = hubOrder.filter((hub) => moves.some((m) => m.to === hub));
  const count = (f: string, t: string) => moves.find((m) => m.from === f && m.to === t)?.devices ?? 0;
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const columns: Column[] = [
    { header: 'Moved from \\ to' },
    ...to.map((hub) => ({ header: hub, align: 'right' as const })),
    { header: 'Total', align: 'right' },
  ];
  const rows = from.map((f) => [
    f,
    ...to.map((t) => formatCount(count(f, t))),
    formatCount(sum(to.map((t) => count(f, t)))),
  ]);
  rows.push([
    'Total',
    ...to.map((t) => formatCount(sum(from.map((f) => count(f, t))))),
    formatCount(sum(moves.map((m) => m.devices))),
  ]);
  return renderTable(columns, rows);
}

function rulesTable(before: ScenarioResult, after: ScenarioResult | null): string {
  const names = [...new Set([...before.rules, ...(after?.rules ?? [])].map((r) => r.rule))];
  const devicesOf = (scenario: ScenarioResult, rule: string) =>
    formatCount(scenario.rules.find((r) => r.rule === rule)?.devices ?? 0);
  const columns: Column[] = after
    ? [
        { header: 'Decided by rule' },
        { header: 'Before', align: 'right' },
        { header: 'After', align: 'right' },
      ]
    : [{ header: 'Decided by rule' }, { header: 'Devices', align: 'right' }];
  const rows = names.map((rule) => [
    rule,
    devicesOf(before, rule),
    ...(after ? [devicesOf(after, rule)] : []),
  ]);
  return renderTable(columns, rows);
}

function reasonsList(scenario: ScenarioResult, label: string): string {
  const shown = scenario.rejected.reasons.slice(0, SHOWN_REASONS);
  const width = Math.max(...shown.map((r) => formatCount(r.devices).length));
  return [
    `Rejected${label ? ` (${label})` : ''}: ${formatCount(scenario.rejected.devices)} devices; top reasons:`,
    ...shown.map((r) => `  ${formatCount(r.devices).padStart(width)}  ${r.reason}`),
  ].join('\n');
}
