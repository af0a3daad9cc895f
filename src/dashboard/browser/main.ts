// The dashboard's browser script. dev/compile-dashboard-script.mjs compiles it into ../script.ts, which page.ts inlines in the
// page's one <script> block (wrapped in a strict function, so nothing here becomes a global) and allows by its
// sha256 hash. It may import types only: the page is one self-contained script, with no bundler in between.
//
// It reads the app's JSON endpoints relative to the page (/api/dashboard -> /api/audit/...), sends the page's
// `?code=` as the x-functions-key header (never into the DOM or a URL), redraws every section from scratch with
// textContent and DOM calls only (no markup from data), keeps a section's last good data when its endpoint fails
// (with a banner saying so), and refreshes itself every `?refresh=` seconds (default 30, 5 to 3600).
import type {
  Answer,
  Decision,
  Decisions,
  DecisionSummary,
  ErrorBody,
  ErrorCodeCount,
  GroupCount,
  HubCount,
  HubLoad,
  HubLoadEntry,
  Json,
  ListPage,
  Outcomes,
  ScanRun,
  Scans,
  ScanState,
  StatusCount,
  Summary,
  Transition,
  Transitions,
  TrendAllocationDay,
  TrendProblemDay,
  Trends,
} from './answers';

/** A JSON endpoint and the sections it fills. */
interface Source {
  /** The sections' data-source and their banners' data-banner-for. */
  readonly name: string;
  /** Relative to the API base, with its query. */
  readonly path: string;
  readonly render: (answer: Json) => void;
  /** A 404 means this app has no such endpoint (no decision log): a notice, not a failure. */
  readonly optional?: boolean;
  /** A list endpoint whose `next` links are followed, up to this many pages. */
  readonly pages?: number;
}

interface HubShare {
  hub: string;
  count: number;
}

/** A non-2xx answer. */
class HttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const params = new URLSearchParams(window.location.search);
const functionKey = params.get('code') ?? '';
const refreshSeconds = refreshInterval(params.get('refresh'));
const apiBase = window.location.pathname.replace(/dashboard\/?$/i, '');
const SVG_NS = 'http://www.w3.org/2000/svg';
const REQUEST_TIMEOUT_MS = 20000;
const MAX_HUBS = 20;
const MAX_DECISION_ROWS = 15;
const TREND_DAYS = 30;
const numberFormat = new Intl.NumberFormat('en-US');

const SOURCES: readonly Source[] = [
  { name: 'summary', path: 'audit/summary', render: renderSummary },
  { name: 'scans', path: 'audit/scans?limit=8', render: renderScans },
  { name: 'transitions', path: 'audit/transitions?since=24h&limit=50', render: renderTransitions },
  { name: 'allocations', path: 'decisions/summary?since=1h', render: renderAllocations, optional: true },
  // Oldest first from the API: the pages are followed (a few at most) and the newest rows shown.
  {
    name: 'decisions',
    path: 'decisions?since=1h&outcome=rejected&limit=1000',
    render: renderDecisions,
    optional: true,
    pages: 5,
  },
  { name: 'hubLoad', path: 'hubs', render: renderHubLoad, optional: true },
  { name: 'trends', path: `trends?days=${TREND_DAYS}`, render: renderTrends, optional: true },
];
/** When each source last loaded and drew. */
const lastGood = new Map<string, Date>();
let refreshes = 0;
let refreshing = false;
let timer: number | undefined;
let pendingWhileHidden = false;

function refreshInterval(text: string | null): number {
  const seconds = Number(text);
  if (text === null || text === '' || !Number.isFinite(seconds)) return 30;
  return Math.min(3600, Math.max(5, Math.round(seconds)));
}

// ---- DOM helpers: every piece of data goes in as text ----

/** What el() and cell() take as content: text, nodes, or lists of them; null and undefined add nothing. */
type Content = Node | string | number | null | undefined | readonly Content[];

type SvgAttributes = Readonly<Record<string, string | number>>;

function byId(id: string): HTMLElement {
  const node = document.getElementById(id);
  if (!node) throw new Error(`The page has no #${id}`);
  return node;
}

function el<Tag extends keyof HTMLElementTagNameMap>(
  tag: Tag,
  className?: string | null,
  content?: Content,
): HTMLElementTagNameMap[Tag] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  append(node, content);
  return node;
}

function append(node: Node, content: Content): void {
  if (content === undefined || content === null) return;
  if (content instanceof Node) {
    node.appendChild(content);
  } else if (typeof content === 'string' || typeof content === 'number') {
    node.appendChild(document.createTextNode(String(content)));
  } else {
    for (const part of content) append(node, part);
  }
}

function svg<Tag extends keyof SVGElementTagNameMap>(
  tag: Tag,
  attributes: SvgAttributes,
  text?: string,
): SVGElementTagNameMap[Tag] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function setText(id: string, text: string): void {
  byId(id).textContent = text;
}

function testId<T extends Element>(node: T, value: string): T {
  node.setAttribute('data-testid', value);
  return node;
}

function cell(content: Content, className?: string | null, title?: string): HTMLTableCellElement {
  const td = el('td', className, content);
  if (title) td.title = title;
  return td;
}

function emptyRow(tbody: HTMLElement, columns: number, text: string): void {
  const td = el('td', 'empty', text);
  td.colSpan = columns;
  tbody.appendChild(el('tr', null, td));
}

function badge(text: string, kind: string): HTMLSpanElement {
  return el('span', `badge ${kind}`, text);
}

// ---- values from the JSON: checked, never trusted ----

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null;
}

/** The objects of a JSON array (any other item is dropped); [] for anything else. */
function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

function text(value: unknown, fallback = '–'): string {
  return typeof value === 'string' && value !== '' ? value : fallback;
}

function formatCount(value: unknown): string {
  return numberFormat.format(count(value));
}

/** A value made safe to use in a class name or test id. */
function token(value: unknown): string {
  return String(value)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '');
}

function date(value: unknown): Date | null {
  const parsed = typeof value === 'string' ? new Date(value) : null;
  return parsed && !Number.isNaN(parsed.getTime()) ? parsed : null;
}

function clock(value: Date | null): string {
  return value ? value.toISOString().slice(11, 19) : '–';
}

function utc(value: Date | null): string {
  return value ? `${value.toISOString().slice(0, 19).replace('T', ' ')}Z` : '–';
}

function ago(value: Date | null): string {
  if (!value) return '–';
  const seconds = Math.round((Date.now() - value.getTime()) / 1000);
  if (seconds < 45) return 'just now';
  if (seconds < 90 * 60) return `${Math.max(1, Math.round(seconds / 60))} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}

function when(value: unknown): HTMLTableCellElement {
  const moment = date(value);
  return cell(moment ? utc(moment).slice(5, 19) : '–', 'when', moment ? ago(moment) : '');
}

function duration(ms: unknown): string {
  const value = count(ms);
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60000) return `${(value / 1000).toFixed(1)} s`;
  const seconds = Math.floor(value / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/**
 * An enrollment cell's content and class: individual enrollments have no id to show, and a device refused at
 * attestation (kind `none`) no enrollment.
 */
function enrollment(item: Answer<'enrollmentKind' | 'enrollmentId'>): [Content, string | null] {
  if (item.enrollmentKind === 'individual') return [el('em', null, 'individual'), null];
  if (item.enrollmentKind === 'none') return [el('em', null, 'none: refused at attestation'), null];
  return [text(item.enrollmentId), 'id'];
}

/** How the problems-by-enrollment list names an entry without an enrollment id. */
const UNNAMED_ENROLLMENTS: Record<string, string> = {
  individual: 'Individual enrollments',
  none: 'Refused at attestation',
};

// ---- sections ----

function renderSummary(summary: Summary): void {
  const open = count(summary.open);
  const openNode = byId('kpi-open');
  openNode.textContent = formatCount(open);
  openNode.classList.toggle('is-alert', open > 0);
  const groups = count(summary.groupsWithProblems);
  setText('kpi-open-sub', groups === 1 ? 'in 1 enrollment' : `in ${formatCount(groups)} enrollments`);
  setText('kpi-resolved', formatCount(summary.resolvedRecently));

  const statuses: StatusCount[] = list(summary.byStatus);
  const max = Math.max(1, ...statuses.map((entry) => count(entry.count)));
  const statusList = byId('by-status');
  clear(statusList);
  for (const entry of statuses) {
    const status = text(entry.status);
    const kind = `s-${token(status)}`;
    const fill = el('span', kind);
    fill.style.width = `${((count(entry.count) / max) * 100).toFixed(1)}%`;
    const item = el('li', null, [
      el('span', 'status-name', [el('span', `dot ${kind}`), status]),
      testId(el('span', 'num', formatCount(entry.count)), `count-status-${token(status)}`),
      el('span', 'meter', fill),
    ]);
    item.setAttribute('data-status', status);
    statusList.appendChild(item);
  }

  const errors = byId('by-error');
  clear(errors);
  const codes: ErrorCodeCount[] = list(summary.byErrorCode);
  if (codes.length === 0) emptyRow(errors, 3, 'No open problems.');
  for (const entry of codes) {
    const code = typeof entry.errorCode === 'number' ? String(entry.errorCode) : 'none';
    const row = el('tr', null, [
      cell(el('span', 'code', code)),
      testId(cell(formatCount(entry.count), 'r num'), `count-error-${token(code)}`),
      cell(el('span', 'explain', text(entry.explanation, ''))),
    ]);
    row.setAttribute('data-error-code', code);
    errors.appendChild(row);
  }

  const groupRows = byId('by-group');
  clear(groupRows);
  const entries: GroupCount[] = list(summary.byGroup);
  if (entries.length === 0) emptyRow(groupRows, 2, 'No open problems.');
  for (const entry of entries) {
    const kind = text(entry.enrollmentKind);
    const unnamed = UNNAMED_ENROLLMENTS[kind];
    const name = unnamed ?? text(entry.enrollmentId);
    const row = testId(
      el('tr', null, [
        testId(cell(unnamed ? el('em', null, name) : name, unnamed ? null : 'id'), 'group-name'),
        testId(cell(formatCount(entry.count), 'r num'), 'group-count'),
      ]),
      'group-row',
    );
    row.setAttribute('data-group', unnamed ? `(${kind})` : name);
    groupRows.appendChild(row);
  }
  const more = byId('groups-more');
  const hidden = groups - entries.length;
  more.hidden = hidden <= 0;
  more.textContent = hidden > 0 ? `And ${formatCount(hidden)} more enrollments with fewer problems.` : '';
}

function describeScanState(state: unknown): { text: string; kind: string } {
  if (!isObject(state)) return { text: '', kind: '' };
  const scan: ScanState = state;
  if (scan.running) {
    return {
      text: `A scan run is in progress (its lease runs until ${utc(date(scan.leaseExpiresAt))}).`,
      kind: 'is-running',
    };
  }
  if (typeof scan.scanId !== 'string') return { text: 'No scan has started yet.', kind: '' };
  const runs = count(scan.runs);
  const started = ` Scan started ${utc(date(scan.scanStartedAt))}, ${runs}${runs === 1 ? ' run.' : ' runs.'}`;
  if (scan.phase === 'done') return { text: `The last scan completed.${started}`, kind: '' };
  const next =
    scan.phase === 'individuals'
      ? 'the individual enrollments'
      : typeof scan.group === 'string'
        ? `enrollment group ${scan.group}`
        : 'the enrollment groups';
  return { text: `Scan resuming: the next run goes on with ${next}.${started}`, kind: 'is-resuming' };
}

function renderScans(answer: Scans): void {
  const runs: ScanRun[] = list(answer.items);
  const latest = runs[0];
  const kpi = byId('kpi-scan');
  clear(kpi);
  if (latest) {
    kpi.appendChild(badge(text(latest.outcome), `o-${token(latest.outcome)}`));
    setText(
      'kpi-scan-sub',
      `${ago(date(latest.startedAt))} · ${formatCount(latest.registrationsRead)} registrations read`,
    );
  } else {
    kpi.textContent = 'none yet';
    setText('kpi-scan-sub', 'the audit timer has not run');
  }

  const state = describeScanState(answer.state);
  const stateNode = byId('scan-state');
  stateNode.textContent = state.text;
  stateNode.className = `scan-state ${state.kind}`;

  const rows = byId('scan-rows');
  clear(rows);
  if (runs.length === 0) emptyRow(rows, 6, 'No scan runs recorded yet.');
  for (const run of runs) {
    const note =
      run.outcome === 'resumable' && typeof run.resumeFrom === 'string'
        ? `resumes at ${run.resumeFrom}`
        : text(run.detail, '');
    const outcome = cell(badge(text(run.outcome), `o-${token(run.outcome)}`), null, note);
    if (note) outcome.appendChild(el('div', 'explain', note));
    rows.appendChild(
      testId(
        el('tr', null, [
          when(run.startedAt),
          testId(outcome, 'scan-outcome'),
          cell(duration(run.durationMs), 'r'),
          testId(cell(formatCount(run.registrationsRead), 'r'), 'scan-registrations'),
          testId(cell(formatCount(run.problemsFound), 'r'), 'scan-found'),
          testId(cell(formatCount(run.problemsResolved), 'r'), 'scan-resolved'),
        ]),
        'scan-row',
      ),
    );
  }
}

function renderTransitions(answer: Transitions): void {
  const items: Transition[] = list(answer.items);
  const rows = byId('transition-rows');
  clear(rows);
  if (items.length === 0) emptyRow(rows, 5, 'No status changes in the last 24 hours.');
  for (const item of items) {
    const from = text(item.fromStatus);
    const to = text(item.toStatus);
    const change = [
      from === 'none' ? badge('new', 's-new') : badge(from, `s-${token(from)}`),
      el('span', 'arrow', '→'),
      badge(to, `s-${token(to)}`),
    ];
    const [who, whoClass] = enrollment(item);
    const row = el('tr', null, [
      when(item.at),
      testId(cell(text(item.registrationId), 'id'), 'transition-registration'),
      cell(who, whoClass),
      testId(cell(change), 'transition-change'),
      cell(typeof item.errorCode === 'number' ? el('span', 'code', String(item.errorCode)) : ''),
    ]);
    row.setAttribute('data-change', `${from}>${to}`);
    rows.appendChild(testId(row, 'transition-row'));
  }
  setText(
    'transitions-note',
    answer.truncated
      ? 'last 24 hours, newest first; partial: more changed than was read'
      : 'last 24 hours, newest first',
  );
}

function renderAllocations(summary: DecisionSummary): void {
  const outcomes: Outcomes = isObject(summary.outcomes) ? summary.outcomes : {};
  setText('kpi-allocations', formatCount(summary.total));
  setText(
    'kpi-allocations-sub',
    `${formatCount(outcomes.assigned)} assigned · ${formatCount(outcomes.rejected)} rejected`,
  );
  setText('outcome-assigned', formatCount(outcomes.assigned));
  setText('outcome-rejected', formatCount(outcomes.rejected));
  setText('outcome-invalid-request', formatCount(outcomes['invalid-request']));
  const since = date(summary.since);
  setText('hubs-window', since ? `since ${clock(since)} UTC (last hour)` : 'last hour');
  drawHubChart(
    list(summary.hubs)
      .map((entry: HubCount) => ({ hub: text(entry.hub), count: count(entry.count) }))
      .sort((a, b) => b.count - a.count || (a.hub < b.hub ? -1 : 1)),
  );
}

/** A horizontal bar chart: the hub's name above its bar, the count and share at the bar's end. */
function drawHubChart(hubs: readonly HubShare[]): void {
  const holder = byId('hub-chart');
  clear(holder);
  const total = hubs.reduce((sum, entry) => sum + entry.count, 0);
  if (hubs.length === 0 || total === 0) {
    holder.appendChild(el('p', 'empty', 'No device was assigned to a hub in the last hour.'));
    return;
  }
  const shown = hubs.slice(0, MAX_HUBS);
  const max = Math.max(...shown.map((entry) => entry.count));
  const width = 640;
  const barWidth = 500;
  const rowHeight = 40;
  const share = (entry: HubShare) => `${Math.round((entry.count / total) * 100)}%`;
  const description = shown.map((entry) => `${entry.hub}: ${entry.count} (${share(entry)})`).join('; ');
  const chart = svg('svg', {
    class: 'chart',
    viewBox: `0 0 ${width} ${shown.length * rowHeight}`,
    role: 'img',
    'aria-label': `Allocations per hub in the last hour: ${description}`,
    'data-testid': 'hub-chart',
  });
  chart.appendChild(svg('title', {}, 'Allocations per hub in the last hour'));
  shown.forEach((entry, index) => {
    const y = index * rowHeight;
    const group = svg('g', { 'data-testid': 'hub-bar', 'data-hub': entry.hub, 'data-count': entry.count });
    group.appendChild(
      svg('title', {}, `${entry.hub}: ${formatCount(entry.count)} allocations (${share(entry)})`),
    );
    group.appendChild(svg('text', { class: 'hub-label', x: 0, y: y + 13 }, entry.hub));
    group.appendChild(svg('rect', { class: 'track', x: 0, y: y + 19, width: barWidth, height: 14, rx: 3 }));
    const length = Math.max(2, Math.round((entry.count / max) * barWidth));
    group.appendChild(svg('rect', { class: 'bar', x: 0, y: y + 19, width: length, height: 14, rx: 3 }));
    group.appendChild(
      svg(
        'text',
        { class: 'hub-count', x: barWidth + 10, y: y + 31, 'data-testid': 'hub-count' },
        `${formatCount(entry.count)} · ${share(entry)}`,
      ),
    );
    chart.appendChild(group);
  });
  holder.appendChild(chart);
  if (hubs.length > shown.length) {
    holder.appendChild(el('p', 'more', `And ${hubs.length - shown.length} more hubs (see the table).`));
  }
  const table = el('table', null, [
    el(
      'thead',
      null,
      el('tr', null, [el('th', null, 'Hub'), el('th', 'r', 'Allocations'), el('th', 'r', 'Share')]),
    ),
    el(
      'tbody',
      null,
      hubs.map((entry) =>
        el('tr', null, [cell(entry.hub, 'id'), cell(formatCount(entry.count), 'r'), cell(share(entry), 'r')]),
      ),
    ),
  ]);
  holder.appendChild(el('details', null, [el('summary', null, 'Show as a table'), table]));
}

function renderDecisions(answer: Decisions): void {
  const decisions: Decision[] = list(answer.items);
  const items = decisions
    .map((item) => ({ item, at: date(item.at) }))
    .sort((a, b) => (b.at ? b.at.getTime() : 0) - (a.at ? a.at.getTime() : 0));
  const rows = byId('decision-rows');
  clear(rows);
  if (items.length === 0) emptyRow(rows, 5, 'No allocation request was rejected in the last hour.');
  for (const { item } of items.slice(0, MAX_DECISION_ROWS)) {
    const [who, whoClass] = enrollment(item);
    rows.appendChild(
      testId(
        el('tr', null, [
          when(item.at),
          testId(cell(text(item.registrationId), 'id'), 'decision-registration'),
          cell(who, whoClass),
          cell(text(item.rule)),
          testId(cell(el('span', 'explain', text(item.reason, '')), null), 'decision-reason'),
        ]),
        'decision-row',
      ),
    );
  }
  let note = 'last hour, newest first';
  if (items.length > MAX_DECISION_ROWS) {
    note += ` (${MAX_DECISION_ROWS} of ${formatCount(items.length)}${answer.more ? '+' : ''})`;
  }
  setText('decisions-note', note);
}

/** A count's age from the seconds the API computed: seconds while it is young, as ago() after. */
function countAge(seconds: unknown): string {
  const value = count(seconds);
  return value < 90 ? `${Math.round(value)} s ago` : ago(new Date(Date.now() - value * 1000));
}

/** The fill cell: a bar in proportion to devices / cap, amber from 90%, red at the cap. */
function fillCell(fill: unknown): HTMLTableCellElement {
  if (typeof fill !== 'number' || !Number.isFinite(fill) || fill < 0) return cell('–');
  const kind = fill >= 1 ? 'f-full' : fill >= 0.9 ? 'f-high' : 'f-ok';
  const bar = el('span', kind);
  bar.style.width = `${(Math.min(1, fill) * 100).toFixed(1)}%`;
  return cell(
    el('div', 'fill', [el('span', 'meter', bar), el('span', 'num', `${(fill * 100).toFixed(1)}%`)]),
  );
}

function renderHubLoad(answer: HubLoad): void {
  const hubs: HubLoadEntry[] = list(answer.hubs);
  const rows = byId('hub-load-rows');
  clear(rows);
  if (hubs.length === 0) emptyRow(rows, 6, 'No hubs: HUB_LOAD_HUBS is empty and the policy names none.');
  for (const hub of hubs) {
    const host = text(hub.hostName);
    const name: Content = [host, typeof hub.alias === 'string' ? el('div', 'explain', hub.alias) : null];
    const read = date(hub.readAt);
    const age = testId(
      cell(
        read ? countAge(hub.ageSeconds) : hub.counted ? 'never' : 'not counted',
        'when',
        read ? utc(read) : '',
      ),
      'hub-load-age',
    );
    if (hub.stale === true && hub.counted !== false)
      age.appendChild(el('div', null, badge('stale', 's-unassigned')));
    if (typeof hub.lastError === 'string') age.appendChild(el('div', 'explain', hub.lastError));
    const row = el('tr', null, [
      cell(name, 'id'),
      testId(cell(typeof hub.devices === 'number' ? formatCount(hub.devices) : '–', 'r'), 'hub-load-devices'),
      testId(
        cell(typeof hub.maxDevices === 'number' ? formatCount(hub.maxDevices) : '–', 'r'),
        'hub-load-cap',
      ),
      testId(fillCell(hub.fill), 'hub-load-fill'),
      testId(cell(hub.drain === true ? badge('draining', 's-failed') : '–'), 'hub-load-drain'),
      age,
    ]);
    row.setAttribute('data-hub', host);
    rows.appendChild(testId(row, 'hub-load-row'));
  }
  const maxAge = count(answer.maxAgeSeconds);
  const policy = typeof answer.policyError === 'string' ? '; the policy cannot be read: caps unknown' : '';
  setText(
    'hub-load-note',
    `devices from the hubs' registries (stale after ${duration(maxAge * 1000)}), caps from the allocation policy${policy}`,
  );
}

// ---- trends: the daily roll-up as SVG bar charts, each with a table of the same numbers ----

/** One series of a trend chart: its legend and column name, its colour class (style.ts), a count per day. */
interface Series {
  /** data-series of its bars and legend entry. */
  readonly key: string;
  readonly name: string;
  readonly colour: string;
  readonly values: readonly number[];
}

interface TrendChart {
  /** The id of the chart's holder, which its toggle button names in data-toggle-for. */
  readonly id: string;
  /** The SVG's <title>, and the start of its aria-label. */
  readonly title: string;
  /** What a bar counts, for the tooltips ("problems", "allocations"). */
  readonly unit: string;
  readonly days: readonly string[];
  readonly series: readonly Series[];
  /** Stacked bars (their sum means something: a Total column) or bars side by side. */
  readonly stacked: boolean;
  /** What the chart area says when every count is zero. */
  readonly empty: string;
}

type TrendView = 'chart' | 'table';

/** Hubs drawn as series of their own; the rest are summed as "other hubs" (colours k-0 to k-5 in style.ts). */
const MAX_TREND_HUBS = 6;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const TREND_CHART = { width: 640, height: 230, left: 50, right: 6, top: 10, bottom: 38 } as const;
/** Whether each trend chart shows its SVG or its table: kept across refreshes, changed by its toggle button. */
const trendViews = new Map<string, TrendView>();

/** The entries with a UTC day (YYYY-MM-DD), oldest first, one per day; a year at most, whatever came back. */
function dailyEntries(value: unknown): Array<{ day: string; entry: Json }> {
  const days = new Map<string, Json>();
  for (const entry of list(value)) {
    if (typeof entry.day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(entry.day)) days.set(entry.day, entry);
  }
  return [...days.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .slice(-366)
    .map(([day, entry]) => ({ day, entry }));
}

/** "Nov 8" for 2026-11-08: months by name, no locale in between. */
function dayLabel(day: string): string {
  return `${MONTHS[Number(day.slice(5, 7)) - 1] ?? day.slice(5, 7)} ${Number(day.slice(8, 10))}`;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** The y axis's ticks: from 0 in steps of 1, 2 or 5 times a power of ten, up to a round maximum >= peak. */
function yTicks(peak: number): number[] {
  const rough = Math.max(peak, 1) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, ([1, 2, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude);
  const ticks: number[] = [];
  for (let tick = 0; tick < peak + step; tick += step) ticks.push(tick);
  return ticks;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

function problemTrend(entries: Array<{ day: string; entry: TrendProblemDay }>, span: string): TrendChart {
  const total = (side: unknown) => count(isObject(side) ? side.total : undefined);
  return {
    id: 'trend-problems',
    title: 'Problems opened and resolved per day',
    unit: 'problems',
    days: entries.map(({ day }) => day),
    series: [
      {
        key: 'opened',
        name: 'Opened',
        colour: 'k-opened',
        values: entries.map(({ entry }) => total(entry.opened)),
      },
      {
        key: 'resolved',
        name: 'Resolved',
        colour: 'k-resolved',
        values: entries.map(({ entry }) => total(entry.resolved)),
      },
    ],
    stacked: false,
    empty: `No problems opened or resolved ${span}.`,
  };
}

/**
 * Allocations per hub per day: the busiest hubs by their total over the window, the rest as one series.
 * `refused` counts the requests that assigned no hub, for the message when no hub got any.
 */
function allocationTrend(
  entries: Array<{ day: string; entry: TrendAllocationDay }>,
  refused: number,
  span: string,
): TrendChart {
  const perDay = entries.map(({ entry }) => {
    const hubs = new Map<string, number>();
    if (isObject(entry.byHub)) {
      for (const [hub, value] of Object.entries(entry.byHub)) if (hub) hubs.set(hub, count(value));
    }
    return hubs;
  });
  const totals = new Map<string, number>();
  for (const hubs of perDay) for (const [hub, n] of hubs) totals.set(hub, (totals.get(hub) ?? 0) + n);
  const ranked = [...totals.entries()]
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .map(([hub]) => hub);
  // An "other" series of one hub would hide a name for nothing.
  const shown = ranked.length > MAX_TREND_HUBS + 1 ? ranked.slice(0, MAX_TREND_HUBS) : ranked;
  const rest = ranked.slice(shown.length);
  const series: Series[] = shown.map((hub, index) => ({
    key: hub,
    name: hub,
    colour: `k-${index}`,
    values: perDay.map((hubs) => hubs.get(hub) ?? 0),
  }));
  if (rest.length > 0) {
    series.push({
      key: 'other',
      name: `Other hubs (${rest.length})`,
      colour: 'k-other',
      values: perDay.map((hubs) => sum(rest.map((hub) => hubs.get(hub) ?? 0))),
    });
  }
  return {
    id: 'trend-allocations',
    title: 'Daily allocations by hub',
    unit: 'allocations',
    days: entries.map(({ day }) => day),
    series,
    stacked: true,
    empty:
      refused > 0
        ? `No device was assigned to a hub ${span} (${formatCount(refused)} requests rejected or invalid).`
        : `No allocations ${span}.`,
  };
}

/** A day's allocation requests that assigned no hub. */
function notAssigned(entry: TrendAllocationDay): number {
  const outcomes: Outcomes = isObject(entry.byOutcome) ? entry.byOutcome : {};
  return count(outcomes.rejected) + count(outcomes['invalid-request']);
}

function renderTrends(answer: Trends): void {
  const days = typeof answer.days === 'number' && Number.isInteger(answer.days) ? count(answer.days) : 0;
  const span = days === 1 ? 'today' : days > 1 ? `in the last ${days} days` : 'in this window';
  const window = days === 1 ? 'today (UTC)' : days > 1 ? `last ${days} days (UTC)` : 'days in UTC';
  const updated: Answer<'problems' | 'allocations'> = isObject(answer.updatedAt) ? answer.updatedAt : {};
  const rolledUp = (value: unknown) => {
    const moment = date(value);
    return moment ? ` · rolled up ${ago(moment)}` : '';
  };
  const allocations = dailyEntries(answer.allocations);
  const refused = sum(allocations.map(({ entry }) => notAssigned(entry)));
  drawTrend(problemTrend(dailyEntries(answer.problems), span));
  drawTrend(allocationTrend(allocations, refused, span));
  setText('trend-problems-note', `${window}${rolledUp(updated.problems)}`);
  setText(
    'trend-allocations-note',
    `${window}${refused > 0 ? ` · ${formatCount(refused)} not assigned` : ''}${rolledUp(updated.allocations)}`,
  );
}

function toggleOf(id: string): HTMLButtonElement | null {
  return document.querySelector<HTMLButtonElement>(`button[data-toggle-for="${id}"]`);
}

/** Draws a trend chart and its table (one of them hidden, as its toggle says), or says there is nothing to draw. */
function drawTrend(chart: TrendChart): void {
  const holder = byId(chart.id);
  const toggle = toggleOf(chart.id);
  clear(holder);
  if (chart.days.length === 0 || sum(chart.series.map((series) => sum(series.values))) === 0) {
    holder.appendChild(testId(el('p', 'empty', chart.empty), `${chart.id}-empty`));
    if (toggle) toggle.hidden = true;
    return;
  }
  holder.appendChild(el('div', 'trend-figure', [trendSvg(chart), trendLegend(chart)]));
  holder.appendChild(el('div', 'scroll trend-table', trendTable(chart)));
  if (toggle) toggle.hidden = false;
  showTrendView(chart.id, trendViews.get(chart.id) ?? 'chart');
}

function showTrendView(id: string, view: TrendView): void {
  trendViews.set(id, view);
  const holder = byId(id);
  holder.setAttribute('data-view', view);
  holder.querySelectorAll<HTMLElement>('.trend-figure').forEach((node) => (node.hidden = view !== 'chart'));
  holder.querySelectorAll<HTMLElement>('.trend-table').forEach((node) => (node.hidden = view !== 'table'));
  const toggle = toggleOf(id);
  if (toggle) toggle.textContent = view === 'chart' ? 'Show as table' : 'Show as chart';
}

function trendSvg(chart: TrendChart): SVGSVGElement {
  const { width, height, left, right, top, bottom } = TREND_CHART;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const days = chart.days;
  const slot = plotWidth / days.length;
  const dayTotals = days.map((_, index) => sum(chart.series.map((series) => series.values[index] ?? 0)));
  const peak = chart.stacked
    ? Math.max(...dayTotals)
    : Math.max(...chart.series.flatMap((series) => series.values));
  const ticks = yTicks(peak);
  const max = ticks[ticks.length - 1] ?? 1;
  const y = (value: number) => round2(top + plotHeight - (value / max) * plotHeight);
  const first = days[0] ?? '';
  const last = days[days.length - 1] ?? '';
  const totals = chart.series.map((series) => {
    const most = Math.max(...series.values);
    const when = dayLabel(days[series.values.indexOf(most)] ?? first);
    return `${series.name}: ${formatCount(sum(series.values))} in all, at most ${formatCount(most)} a day (${when})`;
  });
  const root = svg('svg', {
    class: 'chart trend',
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': `${chart.title}, ${dayLabel(first)} to ${dayLabel(last)} (UTC). ${totals.join('; ')}.`,
    'data-testid': `${chart.id}-chart`,
  });
  root.appendChild(svg('title', {}, chart.title));

  for (const tick of ticks) {
    root.appendChild(
      svg('line', { class: 'grid-line', x1: left, x2: width - right, y1: y(tick), y2: y(tick) }),
    );
    root.appendChild(
      svg(
        'text',
        { class: 'axis-label', x: left - 6, y: y(tick) + 4, 'text-anchor': 'end', 'data-testid': 'y-tick' },
        formatCount(tick),
      ),
    );
  }
  const middle = round2(top + plotHeight / 2);
  root.appendChild(
    svg(
      'text',
      {
        class: 'axis-title',
        x: 12,
        y: middle,
        'text-anchor': 'middle',
        transform: `rotate(-90 12 ${middle})`,
      },
      `${chart.unit} per day`,
    ),
  );
  // About seven day labels, always today's (the last); every day keeps its tooltip.
  const every = Math.ceil(days.length / 7);
  days.forEach((day, index) => {
    if ((days.length - 1 - index) % every !== 0) return;
    const x = round2(left + slot * (index + 0.5));
    root.appendChild(
      svg(
        'text',
        {
          class: 'axis-label',
          x,
          y: top + plotHeight + 16,
          'text-anchor': 'middle',
          'data-testid': 'x-tick',
        },
        dayLabel(day),
      ),
    );
  });
  root.appendChild(
    svg(
      'text',
      { class: 'axis-title', x: left + plotWidth / 2, y: height - 4, 'text-anchor': 'middle' },
      'day (UTC)',
    ),
  );

  days.forEach((day, index) => {
    const group = svg('g', { 'data-day': day });
    let base = 0;
    chart.series.forEach((series, position) => {
      const value = series.values[index] ?? 0;
      const barWidth = chart.stacked ? slot * 0.7 : (slot * 0.8) / chart.series.length;
      const x = chart.stacked
        ? left + slot * (index + 0.15)
        : left + slot * (index + 0.1) + barWidth * position;
      const from = chart.stacked ? base : 0;
      base = from + value;
      const bar = svg('rect', {
        class: `bar ${series.colour}`,
        x: round2(x),
        y: y(from + value),
        width: round2(barWidth),
        height: round2(y(from) - y(from + value)),
        'data-testid': 'trend-bar',
        'data-series': series.key,
        'data-day': day,
        'data-value': value,
      });
      bar.appendChild(svg('title', {}, `${day} · ${series.name}: ${formatCount(value)} ${chart.unit}`));
      group.appendChild(bar);
    });
    root.appendChild(group);
  });
  root.appendChild(svg('line', { class: 'axis', x1: left, x2: width - right, y1: y(0), y2: y(0) }));
  return root;
}

function trendLegend(chart: TrendChart): HTMLUListElement {
  const legend = testId(el('ul', 'legend'), 'legend');
  for (const series of chart.series) {
    const entry = el('li', null, [
      el('span', `swatch ${series.colour}`),
      el('span', 'legend-name', series.name),
      testId(el('span', 'legend-total', formatCount(sum(series.values))), 'legend-total'),
    ]);
    entry.setAttribute('data-series', series.key);
    legend.appendChild(testId(entry, 'legend-entry'));
  }
  return legend;
}

/** The chart's numbers: a row per day, a column per series (and their total when the bars are stacked). */
function trendTable(chart: TrendChart): HTMLTableElement {
  const withTotal = chart.stacked && chart.series.length > 1;
  const header = (name: string, className: string | null) => {
    const th = el('th', className, name);
    th.scope = 'col';
    return th;
  };
  const rowHead = (name: string) => {
    const th = el('th', 'day', name);
    th.scope = 'row';
    return th;
  };
  const rows = chart.days.map((day, index) => {
    const values = chart.series.map((series) => series.values[index] ?? 0);
    const row = el('tr', null, [
      rowHead(day),
      values.map((value) => cell(formatCount(value), 'r')),
      withTotal ? cell(formatCount(sum(values)), 'r total') : null,
    ]);
    row.setAttribute('data-day', day);
    return testId(row, 'trend-row');
  });
  const totals = chart.series.map((series) => sum(series.values));
  const table = el('table', 'trend-numbers', [
    el('caption', 'visually-hidden', chart.title),
    el(
      'thead',
      null,
      el('tr', null, [
        header('Day (UTC)', null),
        chart.series.map((series) => header(series.name, 'r')),
        withTotal ? header('Total', 'r') : null,
      ]),
    ),
    el('tbody', null, rows),
    el(
      'tfoot',
      null,
      el('tr', null, [
        rowHead('Total'),
        totals.map((value) => cell(formatCount(value), 'r')),
        withTotal ? cell(formatCount(sum(totals)), 'r total') : null,
      ]),
    ),
  ]);
  return testId(table, `${chart.id}-table`);
}

// ---- loading ----

/** A source's path without its query. */
function pathOnly(source: Source): string {
  return source.path.split('?')[0] ?? '';
}

/** A field of whatever was thrown: an Error, a DOMException (an aborted fetch), or anything else. */
function field(error: unknown, name: 'name' | 'message'): unknown {
  return isObject(error) ? error[name] : undefined;
}

async function fetchJson(path: string): Promise<Json> {
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (functionKey) headers['x-functions-key'] = functionKey;
  try {
    const response = await fetch(apiBase + path, {
      headers,
      cache: 'no-store',
      credentials: 'same-origin',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
      signal: controller.signal,
    });
    const body = await response.text();
    let json: unknown = null;
    try {
      json = body ? JSON.parse(body) : null;
    } catch {
      json = null;
    }
    if (!response.ok) {
      const error: ErrorBody = isObject(json) ? json : {};
      throw new HttpError(typeof error.error === 'string' ? error.error : '', response.status);
    }
    if (!isObject(json)) throw new Error('the answer is not JSON');
    return json;
  } finally {
    clearTimeout(timeout);
  }
}

function explainFailure(source: Source, error: unknown): string {
  const status = error instanceof HttpError ? error.status : undefined;
  if (status === 401) {
    return 'The function key was refused (HTTP 401). Open the dashboard as /api/dashboard?code=<function key>.';
  }
  const what = status
    ? `HTTP ${status}`
    : field(error, 'name') === 'AbortError'
      ? 'no answer in time'
      : 'no connection';
  const message = field(error, 'message');
  const detail = message ? `: ${String(message).slice(0, 300)}` : '';
  const since = lastGood.get(source.name);
  const shown = since ? ` Showing the data from ${clock(since)} UTC.` : '';
  return `Could not load ${apiBase}${pathOnly(source)} (${what}${detail}).${shown}`;
}

/** Shows `message` in the source's banners ('' hides them); a notice is information, not a failure. */
function setBanners(source: Source, message: string, notice = false): void {
  document.querySelectorAll<HTMLElement>(`[data-banner-for="${source.name}"]`).forEach((banner) => {
    banner.hidden = !message;
    banner.textContent = message;
    banner.classList.toggle('is-notice', notice);
  });
  document.querySelectorAll(`[data-source="${source.name}"]`).forEach((section) => {
    section.setAttribute('data-state', message ? (notice ? 'unavailable' : 'error') : 'ok');
  });
}

/** Replaces the tables and chart of a source's sections (never loaded) with one line of text. */
function showPlaceholders(source: Source, message: string): void {
  document.querySelectorAll(`section[data-source="${source.name}"]`).forEach((section) => {
    section.querySelectorAll('tbody').forEach((tbody) => {
      clear(tbody);
      emptyRow(tbody, tbody.parentElement?.querySelectorAll('th').length ?? 1, message);
    });
    section.querySelectorAll('#hub-chart, .trend-chart').forEach((holder) => {
      clear(holder);
      holder.appendChild(el('p', 'empty', message));
    });
    section
      .querySelectorAll<HTMLElement>('button[data-toggle-for]')
      .forEach((toggle) => (toggle.hidden = true));
  });
}

/** A list endpoint's items over up to `pages` pages, through the query of each answer's next link. */
async function fetchPages(source: Source, pages: number): Promise<Decisions> {
  let items: Json[] = [];
  let path = source.path;
  for (let left = pages; ; left--) {
    const page: ListPage = await fetchJson(path);
    items = items.concat(list(page.items));
    const next = typeof page.next === 'string' ? page.next : null;
    if (!next || left <= 1) return { items, more: Boolean(next) };
    // Only the query of the link is used: the page talks to its own origin, whatever URL the app saw.
    path = pathOnly(source) + new URL(next, window.location.href).search;
  }
}

/** Loads and draws one source; false when it failed (its banner says why). */
async function load(source: Source): Promise<boolean> {
  let answer: Json;
  try {
    answer = await (source.pages ? fetchPages(source, source.pages) : fetchJson(source.path));
  } catch (error) {
    const missing =
      source.optional === true &&
      error instanceof HttpError &&
      error.status === 404 &&
      !lastGood.has(source.name);
    if (missing) {
      setBanners(
        source,
        `Not available: this app does not serve ${apiBase}${pathOnly(source)} (HTTP 404).`,
        true,
      );
      showPlaceholders(source, 'No data.');
      return true;
    }
    setBanners(source, explainFailure(source, error));
    if (!lastGood.has(source.name)) showPlaceholders(source, 'No data yet.');
    return false;
  }
  source.render(answer);
  lastGood.set(source.name, new Date());
  setBanners(source, '');
  return true;
}

function schedule(): void {
  clearTimeout(timer);
  timer = setTimeout(() => {
    if (document.hidden) pendingWhileHidden = true;
    else void refreshAll();
  }, refreshSeconds * 1000);
}

/** Loads every source (unless a refresh is under way already), then schedules the next. */
async function refreshAll(): Promise<void> {
  if (refreshing) return;
  refreshing = true;
  document.body.setAttribute('data-busy', 'true');
  try {
    const results = await Promise.all(
      SOURCES.map((source) =>
        load(source).catch((error: unknown) => {
          setBanners(source, `Could not show this section: ${String(field(error, 'message'))}`);
          return false;
        }),
      ),
    );
    refreshes++;
    const failed = results.filter((ok) => !ok).length;
    document.body.setAttribute('data-refreshes', String(refreshes));
    document.body.setAttribute('data-degraded', failed > 0 ? 'true' : 'false');
    setText('updated', `Updated ${clock(new Date())} UTC${failed > 0 ? ` · ${failed} failed` : ''}`);
  } finally {
    refreshing = false;
    document.body.setAttribute('data-busy', 'false');
    schedule();
  }
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && pendingWhileHidden) {
    pendingWhileHidden = false;
    void refreshAll();
  }
});
byId('refresh-now').addEventListener('click', () => void refreshAll());
document.querySelectorAll<HTMLButtonElement>('button[data-toggle-for]').forEach((toggle) => {
  const id = toggle.getAttribute('data-toggle-for') ?? '';
  toggle.addEventListener('click', () =>
    showTrendView(id, (trendViews.get(id) ?? 'chart') === 'chart' ? 'table' : 'chart'),
  );
});
setText('refresh-every', `every ${refreshSeconds} s`);
void refreshAll();
