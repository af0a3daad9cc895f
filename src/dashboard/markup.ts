// The dashboard's static markup: the frame every section is drawn into by the script (browser/main.ts).
// Nothing here depends on a request; data only ever enters the page as text through the script. Elements the
// tests look for carry data-testid; `data-source` says which JSON endpoint fills a section, and its banner shows
// when that fails.
export const DASHBOARD_BODY = `
<header class="topbar">
  <div class="brand">
    <span class="logo" aria-hidden="true"></span>
    <div>
      <h1>DPS allocator</h1>
      <p class="subtitle">Audit of device registrations and allocation decisions</p>
    </div>
  </div>
  <div class="refresh">
    <span><span class="pulse" aria-hidden="true"></span><span class="updated" id="updated" data-testid="last-updated" aria-live="polite">Loading…</span></span>
    <span id="refresh-every" data-testid="refresh-every"></span>
    <button type="button" id="refresh-now" data-testid="refresh-now">Refresh now</button>
  </div>
</header>
<main>
  <noscript><p class="banner">The dashboard needs JavaScript: it reads the app's JSON endpoints.</p></noscript>
  <section class="kpis" aria-label="Key figures">
    <div class="kpi" data-source="summary">
      <span class="kpi-label">Open problems</span>
      <span class="kpi-value" id="kpi-open" data-testid="count-open">–</span>
      <span class="kpi-sub" id="kpi-open-sub">&nbsp;</span>
    </div>
    <div class="kpi" data-source="summary">
      <span class="kpi-label">Resolved in the last 24 h</span>
      <span class="kpi-value" id="kpi-resolved" data-testid="count-resolved">–</span>
      <span class="kpi-sub">problems that recovered or went away</span>
    </div>
    <div class="kpi" data-source="allocations">
      <span class="kpi-label">Allocation requests in the last hour</span>
      <span class="kpi-value" id="kpi-allocations" data-testid="count-allocations">–</span>
      <span class="kpi-sub" id="kpi-allocations-sub">&nbsp;</span>
    </div>
    <div class="kpi" data-source="scans">
      <span class="kpi-label">Last scan run</span>
      <span class="kpi-value" id="kpi-scan" data-testid="last-scan-outcome">–</span>
      <span class="kpi-sub" id="kpi-scan-sub">&nbsp;</span>
    </div>
  </section>

  <div class="grid three">
    <section class="card" id="section-status" data-source="summary" aria-labelledby="h-status">
      <div class="card-head"><h2 id="h-status">Open problems by status</h2></div>
      <div class="banner" data-banner-for="summary" data-testid="banner-status" role="status" hidden></div>
      <ul class="statuses" id="by-status"></ul>
    </section>
    <section class="card" id="section-errors" data-source="summary" aria-labelledby="h-errors">
      <div class="card-head"><h2 id="h-errors">Open problems by error code</h2></div>
      <div class="banner" data-banner-for="summary" data-testid="banner-errors" role="status" hidden></div>
      <table>
        <thead><tr><th scope="col">Code</th><th scope="col" class="r">Open</th><th scope="col">What it means</th></tr></thead>
        <tbody id="by-error"><tr><td class="empty" colspan="3">Loading…</td></tr></tbody>
      </table>
    </section>
    <section class="card" id="section-groups" data-source="summary" aria-labelledby="h-groups">
      <div class="card-head"><h2 id="h-groups">Open problems by enrollment</h2></div>
      <div class="banner" data-banner-for="summary" data-testid="banner-groups" role="status" hidden></div>
      <table class="narrow">
        <thead><tr><th scope="col">Enrollment group</th><th scope="col" class="r">Open</th></tr></thead>
        <tbody id="by-group"><tr><td class="empty" colspan="2">Loading…</td></tr></tbody>
      </table>
      <p class="more" id="groups-more" hidden></p>
    </section>
  </div>

  <div class="grid two">
    <section class="card" id="section-hubs" data-source="allocations" aria-labelledby="h-hubs">
      <div class="card-head"><h2 id="h-hubs">Allocations across hubs</h2><span class="card-note" id="hubs-window">last hour</span></div>
      <div class="banner" data-banner-for="allocations" data-testid="banner-hubs" role="status" hidden></div>
      <div class="outcomes" aria-label="Outcomes of the allocation requests">
        <div class="outcome o-assigned"><span class="label">Assigned</span><span class="value" data-testid="count-outcome-assigned" id="outcome-assigned">–</span></div>
        <div class="outcome o-rejected"><span class="label">Rejected</span><span class="value" data-testid="count-outcome-rejected" id="outcome-rejected">–</span></div>
        <div class="outcome o-invalid-request"><span class="label">Invalid requests</span><span class="value" data-testid="count-outcome-invalid-request" id="outcome-invalid-request">–</span></div>
      </div>
      <div id="hub-chart"><p class="empty">Loading…</p></div>
    </section>
    <section class="card" id="section-scans" data-source="scans" aria-labelledby="h-scans">
      <div class="card-head"><h2 id="h-scans">Scan runs</h2><span class="card-note">newest first</span></div>
      <div class="banner" data-banner-for="scans" data-testid="banner-scans" role="status" hidden></div>
      <p class="scan-state" id="scan-state" data-testid="scan-state"></p>
      <div class="scroll">
        <table>
          <thead><tr><th scope="col">Started (UTC)</th><th scope="col">Outcome</th><th scope="col" class="r">Duration</th><th scope="col" class="r" title="Registrations read">Read</th><th scope="col" class="r" title="Problems new or reopened">Found</th><th scope="col" class="r" title="Problems resolved">Resolved</th></tr></thead>
          <tbody id="scan-rows"><tr><td class="empty" colspan="6">Loading…</td></tr></tbody>
        </table>
      </div>
    </section>
  </div>

  <div class="grid two">
    <section class="card trend-card" id="section-trend-problems" data-source="trends" aria-labelledby="h-trend-problems">
      <div class="card-head"><h2 id="h-trend-problems">Problems opened and resolved per day</h2><span class="card-note" id="trend-problems-note">last 30 days (UTC)</span></div>
      <div class="banner" data-banner-for="trends" data-testid="banner-trend-problems" role="status" hidden></div>
      <div class="trend-chart" id="trend-problems" data-testid="trend-problems"><p class="empty">Loading…</p></div>
      <div class="trend-tools"><button type="button" data-toggle-for="trend-problems" data-testid="toggle-trend-problems" aria-controls="trend-problems" hidden>Show as table</button></div>
    </section>
    <section class="card trend-card" id="section-trend-allocations" data-source="trends" aria-labelledby="h-trend-allocations">
      <div class="card-head"><h2 id="h-trend-allocations">Allocations per hub per day</h2><span class="card-note" id="trend-allocations-note">last 30 days (UTC)</span></div>
      <div class="banner" data-banner-for="trends" data-testid="banner-trend-allocations" role="status" hidden></div>
      <div class="trend-chart" id="trend-allocations" data-testid="trend-allocations"><p class="empty">Loading…</p></div>
      <div class="trend-tools"><button type="button" data-toggle-for="trend-allocations" data-testid="toggle-trend-allocations" aria-controls="trend-allocations" hidden>Show as table</button></div>
    </section>
  </div>

  <section class="card" id="section-hub-load" data-source="hubLoad" aria-labelledby="h-hub-load">
    <div class="card-head"><h2 id="h-hub-load">Hubs</h2><span class="card-note" id="hub-load-note">devices from the hubs' registries, caps from the allocation policy</span></div>
    <div class="banner" data-banner-for="hubLoad" data-testid="banner-hub-load" role="status" hidden></div>
    <div class="scroll">
      <table class="wide">
        <thead><tr><th scope="col">Hub</th><th scope="col" class="r">Devices</th><th scope="col" class="r">Cap</th><th scope="col">Fill</th><th scope="col">Drain</th><th scope="col">Counts read</th></tr></thead>
        <tbody id="hub-load-rows"><tr><td class="empty" colspan="6">Loading…</td></tr></tbody>
      </table>
    </div>
  </section>

  <section class="card" id="section-transitions" data-source="transitions" aria-labelledby="h-transitions">
    <div class="card-head"><h2 id="h-transitions">Recent transitions</h2><span class="card-note" id="transitions-note">last 24 hours, newest first</span></div>
    <div class="banner" data-banner-for="transitions" data-testid="banner-transitions" role="status" hidden></div>
    <div class="scroll">
      <table class="wide">
        <thead><tr><th scope="col">When (UTC)</th><th scope="col">Registration</th><th scope="col">Enrollment</th><th scope="col">Change</th><th scope="col">Error</th></tr></thead>
        <tbody id="transition-rows"><tr><td class="empty" colspan="5">Loading…</td></tr></tbody>
      </table>
    </div>
  </section>

  <section class="card" id="section-decisions" data-source="decisions" aria-labelledby="h-decisions">
    <div class="card-head"><h2 id="h-decisions">Rejected allocation requests</h2><span class="card-note" id="decisions-note">last hour, newest first</span></div>
    <div class="banner" data-banner-for="decisions" data-testid="banner-decisions" role="status" hidden></div>
    <div class="scroll">
      <table class="wide">
        <thead><tr><th scope="col">When (UTC)</th><th scope="col">Registration</th><th scope="col">Enrollment</th><th scope="col">Rule</th><th scope="col">Why</th></tr></thead>
        <tbody id="decision-rows"><tr><td class="empty" colspan="5">Loading…</td></tr></tbody>
      </table>
    </div>
  </section>
</main>
<footer>Times are UTC. Data from this app's JSON endpoints: /api/audit/summary, /api/audit/transitions, /api/audit/scans, /api/decisions/summary, /api/decisions, /api/hubs, /api/trends.</footer>
`;
