// The dashboard's stylesheet: inlined in the page's one <style> block and allowed by its sha256 hash (page.ts).
// System fonts only, light and dark through prefers-color-scheme; no url() anywhere (the CSP allows no fetch).
export const DASHBOARD_STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f3f5f8;
  --card: #ffffff;
  --text: #1b2430;
  --muted: #5d6b7c;
  --line: #e1e6ed;
  --track: #edf1f6;
  --accent: #2563eb;
  --accent-soft: #dbe7ff;
  --failed: #d13438;
  --unassigned: #c27c0e;
  --disabled: #6b7785;
  --assigning: #7b4fd6;
  --ok: #13834f;
  --error-bg: #fdecec;
  --error-line: #f3b5b5;
  --notice-bg: #eef3fb;
  --notice-line: #c9d7ee;
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.06), 0 1px 3px rgba(16, 24, 40, 0.08);
  /* The trend charts' hub series, then "other hubs": distinct hues, readable on the card in either scheme. */
  --k0: #2563eb;
  --k1: #0d9488;
  --k2: #d97706;
  --k3: #7c3aed;
  --k4: #db2777;
  --k5: #65a30d;
  --k-other: #94a3b8;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f141a;
    --card: #182029;
    --text: #e4e9ef;
    --muted: #97a4b3;
    --line: #2a3440;
    --track: #232d38;
    --accent: #6ea0ff;
    --accent-soft: #1f3252;
    --failed: #ff6b6e;
    --unassigned: #f0b14a;
    --disabled: #9aa6b4;
    --assigning: #b493ff;
    --ok: #4cc38a;
    --error-bg: #3a1d20;
    --error-line: #6e2c31;
    --notice-bg: #1c2633;
    --notice-line: #334559;
    --shadow: none;
    --k0: #6ea0ff;
    --k1: #2dd4bf;
    --k2: #fbbf24;
    --k3: #a78bfa;
    --k4: #f472b6;
    --k5: #a3e635;
    --k-other: #64748b;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body {
  margin: 0;
  color: var(--text);
  background: var(--bg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  -webkit-font-smoothing: antialiased;
}
.topbar {
  display: flex;
  align-items: center;
  justify-content: space-between;
  gap: 16px;
  padding: 14px 28px;
  background: var(--card);
  border-bottom: 1px solid var(--line);
}
.brand { display: flex; align-items: center; gap: 12px; }
.logo {
  width: 30px;
  height: 30px;
  border-radius: 8px;
  background: linear-gradient(135deg, var(--accent), var(--assigning));
}
h1 { margin: 0; font-size: 17px; font-weight: 650; letter-spacing: -0.01em; }
.subtitle { margin: 0; color: var(--muted); font-size: 12.5px; }
.refresh { display: flex; align-items: center; gap: 12px; color: var(--muted); font-size: 12.5px; }
.refresh .updated { color: var(--text); font-variant-numeric: tabular-nums; }
.pulse {
  display: inline-block;
  width: 8px;
  height: 8px;
  margin-right: 6px;
  border-radius: 50%;
  background: var(--ok);
  vertical-align: 1px;
}
body[data-busy="true"] .pulse { background: var(--accent); }
body[data-degraded="true"] .pulse { background: var(--failed); }
button {
  font: inherit;
  color: var(--accent);
  background: var(--accent-soft);
  border: 1px solid transparent;
  border-radius: 6px;
  padding: 5px 12px;
  cursor: pointer;
}
button:hover { border-color: var(--accent); }
button:focus-visible, summary:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
main { max-width: 1440px; margin: 0 auto; padding: 20px 28px 36px; display: grid; gap: 16px; }
.kpis { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 16px; }
.kpi, .card {
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: 10px;
  box-shadow: var(--shadow);
}
.kpi { padding: 14px 18px; display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.kpi-label { color: var(--muted); font-size: 12.5px; }
.kpi-value { font-size: 26px; font-weight: 650; letter-spacing: -0.02em; font-variant-numeric: tabular-nums; }
.kpi-value.is-alert { color: var(--failed); }
.kpi-sub { color: var(--muted); font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.grid { display: grid; gap: 16px; align-items: start; }
.grid.three { grid-template-columns: minmax(0, 0.85fr) minmax(0, 1.4fr) minmax(0, 1fr); }
.grid.two { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
@media (max-width: 1100px) {
  .grid.three, .grid.two { grid-template-columns: minmax(0, 1fr); }
  .kpis { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
.card { padding: 16px 18px; min-width: 0; }
.card-head { display: flex; align-items: baseline; justify-content: space-between; gap: 12px; margin-bottom: 10px; }
h2 { margin: 0; font-size: 14px; font-weight: 650; }
.card-note { color: var(--muted); font-size: 12px; }
.banner {
  margin: 0 0 10px;
  padding: 8px 10px;
  border-radius: 6px;
  border: 1px solid var(--error-line);
  background: var(--error-bg);
  font-size: 12.5px;
}
.banner.is-notice { border-color: var(--notice-line); background: var(--notice-bg); color: var(--muted); }
.empty { color: var(--muted); font-size: 13px; padding: 6px 0; }
.statuses { list-style: none; margin: 0; padding: 0; display: grid; gap: 10px; }
.statuses li { display: grid; grid-template-columns: 1fr auto; gap: 4px 10px; align-items: center; }
.status-name { display: flex; align-items: center; gap: 8px; text-transform: capitalize; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--muted); flex: none; }
.dot.s-failed { background: var(--failed); }
.dot.s-unassigned { background: var(--unassigned); }
.dot.s-disabled { background: var(--disabled); }
.dot.s-assigning { background: var(--assigning); }
.num { font-variant-numeric: tabular-nums; font-weight: 600; text-align: right; }
.meter { grid-column: 1 / -1; height: 6px; border-radius: 3px; background: var(--track); overflow: hidden; }
.meter > span { display: block; height: 100%; width: 0; border-radius: 3px; background: var(--muted); }
.meter > span.s-failed { background: var(--failed); }
.meter > span.s-unassigned { background: var(--unassigned); }
.meter > span.s-disabled { background: var(--disabled); }
.meter > span.s-assigning { background: var(--assigning); }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th {
  text-align: left;
  font-weight: 600;
  color: var(--muted);
  font-size: 11.5px;
  text-transform: uppercase;
  letter-spacing: 0.04em;
  padding: 6px 8px;
  border-bottom: 1px solid var(--line);
  white-space: nowrap;
}
td { padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
tr:last-child td { border-bottom: none; }
th.r, td.r { text-align: right; font-variant-numeric: tabular-nums; }
td.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: break-word; }
.narrow td.id { word-break: break-all; }
.wide td.id { white-space: nowrap; }
td.when { white-space: nowrap; color: var(--muted); font-variant-numeric: tabular-nums; }
.explain { color: var(--muted); font-size: 12px; line-height: 1.35; }
.code {
  display: inline-block;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12px;
  padding: 1px 6px;
  border-radius: 4px;
  background: var(--track);
}
.badge {
  display: inline-block;
  padding: 1px 8px;
  border-radius: 999px;
  font-size: 12px;
  font-weight: 600;
  background: var(--track);
  color: var(--muted);
  white-space: nowrap;
}
.badge.s-failed, .badge.o-failed, .badge.o-rejected, .badge.o-invalid-request { color: var(--failed); }
.badge.s-unassigned, .badge.o-resumable { color: var(--unassigned); }
.badge.s-assigning { color: var(--assigning); }
.badge.s-assigned, .badge.o-completed, .badge.o-assigned { color: var(--ok); }
.arrow { color: var(--muted); padding: 0 4px; }
.fill { display: flex; align-items: center; gap: 8px; min-width: 140px; }
.fill .meter { flex: 1 1 auto; min-width: 70px; }
.fill .num { min-width: 52px; }
.meter > span.f-ok { background: var(--accent); }
.meter > span.f-high { background: var(--unassigned); }
.meter > span.f-full { background: var(--failed); }
.scroll { max-height: 360px; overflow: auto; }
.scan-state { margin: 0 0 10px; font-size: 13px; }
.scan-state.is-resuming { color: var(--unassigned); }
.scan-state.is-running { color: var(--accent); }
.outcomes { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 12px; }
.outcome {
  flex: 1 1 0;
  min-width: 110px;
  border: 1px solid var(--line);
  border-radius: 8px;
  padding: 8px 12px;
}
.outcome .label { color: var(--muted); font-size: 12px; }
.outcome .value { display: block; font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; }
.outcome.o-assigned .value { color: var(--ok); }
.outcome.o-rejected .value, .outcome.o-invalid-request .value { color: var(--failed); }
svg.chart { display: block; width: 100%; height: auto; overflow: visible; }
svg.chart .hub-label { fill: var(--text); font-size: 13px; }
svg.chart .hub-count { fill: var(--text); font-size: 13px; font-weight: 600; font-variant-numeric: tabular-nums; }
svg.chart .track { fill: var(--track); }
svg.chart .bar { fill: var(--accent); }
svg.trend .grid-line { stroke: var(--line); stroke-width: 1; }
svg.trend .axis { stroke: var(--muted); stroke-width: 1; }
svg.trend .axis-label { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
svg.trend .axis-title { fill: var(--muted); font-size: 11px; }
svg.trend .bar { fill: var(--series, var(--accent)); }
svg.trend .bar:hover { opacity: 0.8; }
.k-opened { --series: var(--failed); }
.k-resolved { --series: var(--ok); }
.k-0 { --series: var(--k0); }
.k-1 { --series: var(--k1); }
.k-2 { --series: var(--k2); }
.k-3 { --series: var(--k3); }
.k-4 { --series: var(--k4); }
.k-5 { --series: var(--k5); }
.k-other { --series: var(--k-other); }
.trend-card .card-head { flex-wrap: wrap; }
.trend-tools { display: flex; justify-content: flex-end; margin-top: 8px; }
.trend-tools button { font-size: 12.5px; padding: 3px 10px; }
.legend { list-style: none; margin: 8px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12.5px; }
.legend li { display: flex; align-items: center; gap: 6px; min-width: 0; }
.legend-name { overflow-wrap: anywhere; }
.legend-total { color: var(--muted); font-variant-numeric: tabular-nums; }
.swatch { width: 10px; height: 10px; border-radius: 2px; flex: none; background: var(--series, var(--accent)); }
.trend-table th.day { font-weight: 400; color: var(--text); font-size: 13px; text-transform: none; letter-spacing: 0; font-variant-numeric: tabular-nums; }
/* The header and the totals stay in view while the days scroll. */
.trend-table thead th { position: sticky; top: 0; background: var(--card); }
.trend-table tfoot th, .trend-table tfoot td {
  position: sticky;
  bottom: 0;
  background: var(--card);
  font-weight: 600;
  border-top: 1px solid var(--line);
}
.trend-table td.total { font-weight: 600; }
details { margin-top: 10px; font-size: 12.5px; color: var(--muted); }
summary { cursor: pointer; }
details table { margin-top: 6px; color: var(--text); }
.more { color: var(--muted); font-size: 12px; margin-top: 8px; }
.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
}
footer { color: var(--muted); font-size: 12px; text-align: center; padding-bottom: 20px; }
`;
