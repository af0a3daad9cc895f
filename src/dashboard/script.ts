// The dashboard's browser script, inlined in the page's one <script> block and allowed by its sha256 hash
// (page.ts). Plain ES2020 in a string: the project compiles for Node without DOM types, and the browser test
// runs it for real. It reads the app's JSON endpoints relative to the page (/api/dashboard -> /api/audit/...),
// sends the page's `?code=` as the x-functions-key header (never into the DOM), redraws every section from
// scratch with textContent and DOM calls only (never innerHTML), keeps a section's last good data when its
// endpoint fails (with a banner saying so), and refreshes itself every `?refresh=` seconds (default 30, min 5).
export const DASHBOARD_SCRIPT = `
(function () {
  'use strict';

  var params = new URLSearchParams(window.location.search);
  var functionKey = params.get('code') || '';
  var refreshSeconds = refreshInterval(params.get('refresh'));
  var apiBase = window.location.pathname.replace(/dashboard\\/?$/i, '');
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var STATUSES = ['failed', 'unassigned', 'disabled', 'assigning'];
  var REQUEST_TIMEOUT_MS = 20000;
  var MAX_HUBS = 20;
  var MAX_DECISION_ROWS = 15;
  var numberFormat = new Intl.NumberFormat('en-US');

  var SOURCES = [
    { name: 'summary', path: 'audit/summary', render: renderSummary },
    { name: 'scans', path: 'audit/scans?limit=8', render: renderScans },
    { name: 'transitions', path: 'audit/transitions?since=24h&limit=50', render: renderTransitions },
    { name: 'allocations', path: 'decisions/summary?since=1h', render: renderAllocations, optional: true },
    // Oldest first from the API: the pages are followed (a few at most) and the newest rows shown.
    { name: 'decisions', path: 'decisions?since=1h&outcome=rejected&limit=1000', render: renderDecisions, optional: true, pages: 5 },
  ];
  var lastGood = {};
  var refreshes = 0;
  var running = null;
  var timer = null;
  var pendingWhileHidden = false;

  function refreshInterval(text) {
    var seconds = Number(text);
    if (text === null || text === '' || !Number.isFinite(seconds)) return 30;
    return Math.min(3600, Math.max(5, Math.round(seconds)));
  }

  // ---- DOM helpers: every piece of data goes in as text ----

  function byId(id) {
    return document.getElementById(id);
  }

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined && content !== null) append(node, content);
    return node;
  }

  function append(node, content) {
    if (Array.isArray(content)) {
      content.forEach(function (part) { append(node, part); });
    } else if (content instanceof Node) {
      node.appendChild(content);
    } else if (content !== undefined && content !== null) {
      node.appendChild(document.createTextNode(String(content)));
    }
  }

  function svg(tag, attributes, text) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attributes).forEach(function (name) { node.setAttribute(name, String(attributes[name])); });
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function setText(id, text) {
    byId(id).textContent = String(text);
  }

  function testId(node, value) {
    node.setAttribute('data-testid', value);
    return node;
  }

  function cell(content, className, title) {
    var td = el('td', className, content);
    if (title) td.title = title;
    return td;
  }

  function emptyRow(tbody, columns, text) {
    var td = el('td', 'empty', text);
    td.colSpan = columns;
    tbody.appendChild(el('tr', null, td));
  }

  function badge(text, kind) {
    return el('span', 'badge ' + kind, text);
  }

  // ---- values from the JSON: checked, never trusted ----

  function list(value) {
    return Array.isArray(value) ? value.filter(function (item) { return item && typeof item === 'object'; }) : [];
  }

  function count(value) {
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
  }

  function text(value, fallback) {
    return typeof value === 'string' && value !== '' ? value : fallback === undefined ? '–' : fallback;
  }

  function formatCount(value) {
    return numberFormat.format(count(value));
  }

  function className(value) {
    return String(value).toLowerCase().replace(/[^a-z0-9-]/g, '');
  }

  function date(value) {
    var parsed = typeof value === 'string' ? new Date(value) : null;
    return parsed && !Number.isNaN(parsed.getTime()) ? parsed : null;
  }

  function clock(value) {
    return value ? value.toISOString().slice(11, 19) : '–';
  }

  function utc(value) {
    return value ? value.toISOString().slice(0, 19).replace('T', ' ') + 'Z' : '–';
  }

  function ago(value) {
    if (!value) return '–';
    var seconds = Math.round((Date.now() - value.getTime()) / 1000);
    if (seconds < 45) return 'just now';
    if (seconds < 90 * 60) return Math.max(1, Math.round(seconds / 60)) + ' min ago';
    if (seconds < 36 * 3600) return Math.round(seconds / 3600) + ' h ago';
    return Math.round(seconds / 86400) + ' d ago';
  }

  function when(value) {
    var moment = date(value);
    var td = cell(moment ? utc(moment).slice(5, 19) : '–', 'when', moment ? ago(moment) : '');
    return td;
  }

  function duration(ms) {
    var value = count(ms);
    if (value < 1000) return Math.round(value) + ' ms';
    if (value < 60000) return (value / 1000).toFixed(1) + ' s';
    var seconds = Math.floor(value / 1000);
    return Math.floor(seconds / 60) + ' min ' + String(seconds % 60).padStart(2, '0') + ' s';
  }

  // ---- sections ----

  function renderSummary(summary) {
    var open = count(summary.open);
    var openNode = byId('kpi-open');
    openNode.textContent = formatCount(open);
    openNode.classList.toggle('is-alert', open > 0);
    var groups = count(summary.groupsWithProblems);
    setText('kpi-open-sub', groups === 1 ? 'in 1 enrollment' : 'in ' + formatCount(groups) + ' enrollments');
    setText('kpi-resolved', formatCount(summary.resolvedRecently));

    var statuses = list(summary.byStatus);
    var max = Math.max.apply(null, [1].concat(statuses.map(function (entry) { return count(entry.count); })));
    var statusList = byId('by-status');
    clear(statusList);
    statuses.forEach(function (entry) {
      var status = text(entry.status);
      var kind = 's-' + className(status);
      var fill = el('span', kind);
      fill.style.width = ((count(entry.count) / max) * 100).toFixed(1) + '%';
      var item = el('li', null, [
        el('span', 'status-name', [el('span', 'dot ' + kind), status]),
        testId(el('span', 'num', formatCount(entry.count)), 'count-status-' + className(status)),
        el('span', 'meter', fill),
      ]);
      item.setAttribute('data-status', status);
      statusList.appendChild(item);
    });

    var errors = byId('by-error');
    clear(errors);
    var codes = list(summary.byErrorCode);
    if (codes.length === 0) emptyRow(errors, 3, 'No open problems.');
    codes.forEach(function (entry) {
      var code = typeof entry.errorCode === 'number' ? String(entry.errorCode) : 'none';
      var row = el('tr', null, [
        cell(el('span', 'code', code)),
        testId(cell(formatCount(entry.count), 'r num'), 'count-error-' + className(code)),
        cell(el('span', 'explain', text(entry.explanation, ''))),
      ]);
      row.setAttribute('data-error-code', code);
      errors.appendChild(row);
    });

    var groupRows = byId('by-group');
    clear(groupRows);
    var entries = list(summary.byGroup);
    if (entries.length === 0) emptyRow(groupRows, 2, 'No open problems.');
    entries.forEach(function (entry) {
      var individual = entry.enrollmentKind === 'individual';
      var name = individual ? 'Individual enrollments' : text(entry.enrollmentId);
      var row = testId(
        el('tr', null, [
          testId(cell(individual ? el('em', null, name) : name, individual ? null : 'id'), 'group-name'),
          testId(cell(formatCount(entry.count), 'r num'), 'group-count'),
        ]),
        'group-row',
      );
      row.setAttribute('data-group', individual ? '(individual)' : name);
      groupRows.appendChild(row);
    });
    var more = byId('groups-more');
    var hidden = groups - entries.length;
    more.hidden = hidden <= 0;
    more.textContent = hidden > 0 ? 'And ' + formatCount(hidden) + ' more enrollments with fewer problems.' : '';
  }

  function describeScanState(state) {
    if (!state || typeof state !== 'object') return { text: '', kind: '' };
    if (state.running) {
      return {
        text: 'A scan run is in progress (its lease runs until ' + utc(date(state.leaseExpiresAt)) + ').',
        kind: 'is-running',
      };
    }
    if (typeof state.scanId !== 'string') return { text: 'No scan has started yet.', kind: '' };
    var runs = count(state.runs);
    var started = ' Scan started ' + utc(date(state.scanStartedAt)) + ', ' + runs + (runs === 1 ? ' run.' : ' runs.');
    if (state.phase === 'done') return { text: 'The last scan completed.' + started, kind: '' };
    var next =
      state.phase === 'individuals'
        ? 'the individual enrollments'
        : typeof state.group === 'string'
          ? 'enrollment group ' + state.group
          : 'the enrollment groups';
    return { text: 'Scan resuming: the next run goes on with ' + next + '.' + started, kind: 'is-resuming' };
  }

  function renderScans(answer) {
    var runs = list(answer.items);
    var latest = runs[0];
    var kpi = byId('kpi-scan');
    clear(kpi);
    if (latest) {
      kpi.appendChild(badge(text(latest.outcome), 'o-' + className(latest.outcome)));
      setText('kpi-scan-sub', ago(date(latest.startedAt)) + ' · ' + formatCount(latest.registrationsRead) + ' registrations read');
    } else {
      kpi.textContent = 'none yet';
      setText('kpi-scan-sub', 'the audit timer has not run');
    }

    var state = describeScanState(answer.state);
    var stateNode = byId('scan-state');
    stateNode.textContent = state.text;
    stateNode.className = 'scan-state ' + state.kind;

    var rows = byId('scan-rows');
    clear(rows);
    if (runs.length === 0) emptyRow(rows, 6, 'No scan runs recorded yet.');
    runs.forEach(function (run) {
      var note =
        run.outcome === 'resumable' && typeof run.resumeFrom === 'string'
          ? 'resumes at ' + run.resumeFrom
          : text(run.detail, '');
      var outcome = cell(badge(text(run.outcome), 'o-' + className(run.outcome)), null, note);
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
    });
  }

  function renderTransitions(answer) {
    var items = list(answer.items);
    var rows = byId('transition-rows');
    clear(rows);
    if (items.length === 0) emptyRow(rows, 5, 'No status changes in the last 24 hours.');
    items.forEach(function (item) {
      var from = text(item.fromStatus);
      var to = text(item.toStatus);
      var change = from === 'none'
        ? [badge('new', 's-new'), el('span', 'arrow', '→'), badge(to, 's-' + className(to))]
        : [badge(from, 's-' + className(from)), el('span', 'arrow', '→'), badge(to, 's-' + className(to))];
      var enrollment = item.enrollmentKind === 'individual' ? el('em', null, 'individual') : text(item.enrollmentId);
      var row = el('tr', null, [
        when(item.at),
        testId(cell(text(item.registrationId), 'id'), 'transition-registration'),
        cell(enrollment, item.enrollmentKind === 'individual' ? null : 'id'),
        testId(cell(change), 'transition-change'),
        cell(typeof item.errorCode === 'number' ? el('span', 'code', String(item.errorCode)) : ''),
      ]);
      row.setAttribute('data-change', from + '>' + to);
      rows.appendChild(testId(row, 'transition-row'));
    });
    setText('transitions-note', answer.truncated
      ? 'last 24 hours, newest first; partial: more changed than was read'
      : 'last 24 hours, newest first');
  }

  function renderAllocations(summary) {
    var outcomes = summary.outcomes && typeof summary.outcomes === 'object' ? summary.outcomes : {};
    setText('kpi-allocations', formatCount(summary.total));
    setText('kpi-allocations-sub', formatCount(outcomes.assigned) + ' assigned · ' + formatCount(outcomes.rejected) + ' rejected');
    setText('outcome-assigned', formatCount(outcomes.assigned));
    setText('outcome-rejected', formatCount(outcomes.rejected));
    setText('outcome-invalid-request', formatCount(outcomes['invalid-request']));
    var since = date(summary.since);
    setText('hubs-window', since ? 'since ' + clock(since) + ' UTC (last hour)' : 'last hour');
    drawHubChart(
      list(summary.hubs)
        .map(function (entry) { return { hub: text(entry.hub), count: count(entry.count) }; })
        .sort(function (a, b) { return b.count - a.count || (a.hub < b.hub ? -1 : 1); }),
    );
  }

  /** A horizontal bar chart: the hub's name above its bar, the count and share at the bar's end. */
  function drawHubChart(hubs) {
    var holder = byId('hub-chart');
    clear(holder);
    var total = hubs.reduce(function (sum, entry) { return sum + entry.count; }, 0);
    if (hubs.length === 0 || total === 0) {
      holder.appendChild(el('p', 'empty', 'No device was assigned to a hub in the last hour.'));
      return;
    }
    var shown = hubs.slice(0, MAX_HUBS);
    var max = Math.max.apply(null, shown.map(function (entry) { return entry.count; }));
    var width = 640;
    var barWidth = 500;
    var rowHeight = 40;
    var share = function (entry) { return Math.round((entry.count / total) * 100) + '%'; };
    var description = shown.map(function (entry) { return entry.hub + ': ' + entry.count + ' (' + share(entry) + ')'; }).join('; ');
    var chart = svg('svg', {
      class: 'chart',
      viewBox: '0 0 ' + width + ' ' + shown.length * rowHeight,
      role: 'img',
      'aria-label': 'Allocations per hub in the last hour: ' + description,
      'data-testid': 'hub-chart',
    });
    chart.appendChild(svg('title', {}, 'Allocations per hub in the last hour'));
    shown.forEach(function (entry, index) {
      var y = index * rowHeight;
      var group = svg('g', { 'data-testid': 'hub-bar', 'data-hub': entry.hub, 'data-count': entry.count });
      group.appendChild(svg('title', {}, entry.hub + ': ' + formatCount(entry.count) + ' allocations (' + share(entry) + ')'));
      group.appendChild(svg('text', { class: 'hub-label', x: 0, y: y + 13 }, entry.hub));
      group.appendChild(svg('rect', { class: 'track', x: 0, y: y + 19, width: barWidth, height: 14, rx: 3 }));
      var length = Math.max(2, Math.round((entry.count / max) * barWidth));
      group.appendChild(svg('rect', { class: 'bar', x: 0, y: y + 19, width: length, height: 14, rx: 3 }));
      group.appendChild(
        svg('text', { class: 'hub-count', x: barWidth + 10, y: y + 31, 'data-testid': 'hub-count' },
          formatCount(entry.count) + ' · ' + share(entry)),
      );
      chart.appendChild(group);
    });
    holder.appendChild(chart);
    if (hubs.length > shown.length) {
      holder.appendChild(el('p', 'more', 'And ' + (hubs.length - shown.length) + ' more hubs (see the table).'));
    }
    var table = el('table', null, [
      el('thead', null, el('tr', null, [el('th', null, 'Hub'), el('th', 'r', 'Allocations'), el('th', 'r', 'Share')])),
      el('tbody', null, hubs.map(function (entry) {
        return el('tr', null, [cell(entry.hub, 'id'), cell(formatCount(entry.count), 'r'), cell(share(entry), 'r')]);
      })),
    ]);
    holder.appendChild(el('details', null, [el('summary', null, 'Show as a table'), table]));
  }

  function renderDecisions(answer) {
    var items = list(answer.items)
      .map(function (item) { return { item: item, at: date(item.at) }; })
      .sort(function (a, b) { return (b.at ? b.at.getTime() : 0) - (a.at ? a.at.getTime() : 0); });
    var rows = byId('decision-rows');
    clear(rows);
    if (items.length === 0) emptyRow(rows, 5, 'No allocation request was rejected in the last hour.');
    items.slice(0, MAX_DECISION_ROWS).forEach(function (entry) {
      var item = entry.item;
      var enrollment = item.enrollmentKind === 'individual' ? el('em', null, 'individual') : text(item.enrollmentId);
      rows.appendChild(
        testId(
          el('tr', null, [
            when(item.at),
            testId(cell(text(item.registrationId), 'id'), 'decision-registration'),
            cell(enrollment, item.enrollmentKind === 'individual' ? null : 'id'),
            cell(text(item.rule)),
            testId(cell(el('span', 'explain', text(item.reason, '')), null), 'decision-reason'),
          ]),
          'decision-row',
        ),
      );
    });
    var note = 'last hour, newest first';
    if (items.length > MAX_DECISION_ROWS) note += ' (' + MAX_DECISION_ROWS + ' of ' + formatCount(items.length) + (answer.more ? '+' : '') + ')';
    setText('decisions-note', note);
  }

  // ---- loading ----

  function fetchJson(path) {
    var controller = new AbortController();
    var timeout = setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS);
    var headers = { Accept: 'application/json' };
    if (functionKey) headers['x-functions-key'] = functionKey;
    return fetch(apiBase + path, {
      headers: headers,
      cache: 'no-store',
      credentials: 'same-origin',
      redirect: 'error',
      referrerPolicy: 'no-referrer',
      signal: controller.signal,
    })
      .then(function (response) {
        return response.text().then(function (body) {
          var json = null;
          try { json = body ? JSON.parse(body) : null; } catch (ignored) { json = null; }
          if (!response.ok) {
            var failure = new Error(json && typeof json.error === 'string' ? json.error : '');
            failure.status = response.status;
            throw failure;
          }
          if (!json || typeof json !== 'object') throw new Error('the answer is not JSON');
          return json;
        });
      })
      .finally(function () { clearTimeout(timeout); });
  }

  function explainFailure(source, error) {
    var status = error && error.status;
    if (status === 401) {
      return 'The function key was refused (HTTP 401). Open the dashboard as /api/dashboard?code=<function key>.';
    }
    var what = status ? 'HTTP ' + status : error && error.name === 'AbortError' ? 'no answer in time' : 'no connection';
    var detail = error && error.message ? ': ' + String(error.message).slice(0, 300) : '';
    var since = lastGood[source.name];
    var shown = since ? ' Showing the data from ' + clock(since) + ' UTC.' : '';
    return 'Could not load ' + apiBase + source.path.split('?')[0] + ' (' + what + detail + ').' + shown;
  }

  function setBanners(source, message, notice) {
    var banners = document.querySelectorAll('[data-banner-for="' + source.name + '"]');
    Array.prototype.forEach.call(banners, function (banner) {
      banner.hidden = !message;
      banner.textContent = message || '';
      banner.classList.toggle('is-notice', Boolean(notice));
    });
    var sections = document.querySelectorAll('[data-source="' + source.name + '"]');
    Array.prototype.forEach.call(sections, function (section) {
      section.setAttribute('data-state', message ? (notice ? 'unavailable' : 'error') : 'ok');
    });
  }

  /** Replaces the tables and chart of a source's sections (never loaded) with one line of text. */
  function showPlaceholders(source, message) {
    var sections = document.querySelectorAll('section[data-source="' + source.name + '"]');
    Array.prototype.forEach.call(sections, function (section) {
      Array.prototype.forEach.call(section.querySelectorAll('tbody'), function (tbody) {
        clear(tbody);
        emptyRow(tbody, tbody.parentNode.querySelectorAll('th').length, message);
      });
      Array.prototype.forEach.call(section.querySelectorAll('#hub-chart'), function (holder) {
        clear(holder);
        holder.appendChild(el('p', 'empty', message));
      });
    });
  }

  /** A list endpoint's items over up to source.pages pages, through the query of each answer's next link. */
  function fetchPages(source) {
    var items = [];
    var pathOnly = source.path.split('?')[0];
    function page(path, left) {
      return fetchJson(path).then(function (json) {
        items = items.concat(list(json.items));
        var next = typeof json.next === 'string' ? json.next : null;
        if (!next || left <= 1) return { items: items, more: Boolean(next) };
        // Only the query of the link is used: the page talks to its own origin, whatever URL the app saw.
        return page(pathOnly + new URL(next, window.location.href).search, left - 1);
      });
    }
    return page(source.path, source.pages);
  }

  function load(source) {
    return (source.pages ? fetchPages(source) : fetchJson(source.path)).then(
      function (json) {
        source.render(json);
        lastGood[source.name] = new Date();
        setBanners(source, '');
        return true;
      },
      function (error) {
        var missing = source.optional && error && error.status === 404 && !lastGood[source.name];
        if (missing) {
          setBanners(source, 'Not available: this app does not serve ' + apiBase + source.path.split('?')[0] + ' (HTTP 404).', true);
          showPlaceholders(source, 'No data.');
          return true;
        }
        setBanners(source, explainFailure(source, error), false);
        if (!lastGood[source.name]) showPlaceholders(source, 'No data yet.');
        return false;
      },
    );
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (document.hidden) pendingWhileHidden = true;
      else refreshAll();
    }, refreshSeconds * 1000);
  }

  function refreshAll() {
    if (running) return running;
    document.body.setAttribute('data-busy', 'true');
    running = Promise.all(SOURCES.map(function (source) {
      return load(source).catch(function (error) {
        setBanners(source, 'Could not show this section: ' + String(error && error.message), false);
        return false;
      });
    })).then(function (results) {
      refreshes++;
      var failed = results.filter(function (ok) { return !ok; }).length;
      document.body.setAttribute('data-refreshes', String(refreshes));
      document.body.setAttribute('data-degraded', failed > 0 ? 'true' : 'false');
      setText('updated', 'Updated ' + clock(new Date()) + ' UTC' + (failed > 0 ? ' · ' + failed + ' failed' : ''));
    }).finally(function () {
      running = null;
      document.body.setAttribute('data-busy', 'false');
      schedule();
    });
    return running;
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && pendingWhileHidden) {
      pendingWhileHidden = false;
      refreshAll();
    }
  });
  byId('refresh-now').addEventListener('click', function () { refreshAll(); });
  setText('refresh-every', 'every ' + refreshSeconds + ' s');
  refreshAll();
})();
`;
