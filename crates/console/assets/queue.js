// The queue: alerts that need action by default, informational ones behind a toggle,
// filters with their counts, keyboard navigation, and changes arriving live.

import { download, gql, subscribe } from './api.js';
import { h, replace } from './dom.js';
import { label, when } from './format.js';

const OPEN = ['NEW', 'ACKNOWLEDGED', 'IN_REVIEW', 'ESCALATED', 'AWAITING_SECOND_REVIEW'];
const CLOSED = ['CONFIRMED', 'DISMISSED', 'RESOLVED'];

// The status groups a reviewer picks from, with the statuses each lists.
const GROUPS = [
  { id: 'action', title: 'Needs action', statuses: OPEN },
  { id: 'second', title: 'Awaiting second reviewer', statuses: ['AWAITING_SECOND_REVIEW'] },
  { id: 'closed', title: 'Closed', statuses: CLOSED },
  { id: 'all', title: 'All', statuses: [] },
];
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];
// Informational alerts record a link (a conversion, a transition), not a problem.
const NEEDS_ACTION = SEVERITIES.filter((s) => s !== 'INFO');
const PAGE = 50;

const QUERY = `query Queue($filter: AlertFilterInput, $first: Int, $after: String) {
  alerts(filter: $filter, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id kind severity status explanation assignee lastSeen records { registry } }
  }
  alertCounts(filter: $filter) {
    total
    byStatus { value count }
    bySeverity { value count }
    byKind { value count }
    byRegistry { value count }
    byAssignee { value count }
  }
}`;

// The queue's choices, read from and written to the page address (never the key).
function choices(params) {
  return {
    group: GROUPS.find((g) => g.id === params.get('group'))?.id ?? 'action',
    info: params.get('info') === '1',
    severity: params.get('severity') ?? '',
    kind: params.get('kind') ?? '',
    registry: params.get('registry') ?? '',
    assignee: params.get('assignee') ?? '',
  };
}

function filterOf(c) {
  const statuses = GROUPS.find((g) => g.id === c.group).statuses;
  return {
    statuses: statuses.length ? statuses : null,
    severities: c.severity ? [c.severity] : c.info ? null : NEEDS_ACTION,
    kinds: c.kind ? [c.kind] : null,
    registry: c.registry || null,
    assignee: c.assignee || null,
  };
}

function go(c, change) {
  const next = { ...c, ...change };
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(next)) {
    if (value === true) params.set(key, '1');
    else if (value && !(key === 'group' && value === 'action')) params.set(key, value);
  }
  const query = params.toString();
  location.hash = query ? `#/queue?${query}` : '#/queue';
}

function countOf(list, value) {
  return list.find((f) => f.value === value)?.count ?? 0;
}

function select(id, title, current, options, onchange) {
  return h(
    'label',
    { class: 'filter' },
    title,
    h(
      'select',
      { id, onchange: (e) => onchange(e.target.value) },
      h('option', { value: '' }, 'Any'),
      options.map((o) =>
        h('option', { value: o.value, selected: o.value === current }, `${o.text} (${o.count})`),
      ),
    ),
  );
}

function severityBadge(severity) {
  return h('span', { class: `badge severity-${severity.toLowerCase()}` }, label(severity));
}

export async function showQueue({ view, params }) {
  const c = choices(params);
  const filter = filterOf(c);
  let shown = [];
  let counts = null;
  let page = null;
  let selected = 0;
  let fresh = new Set();

  const rows = h('tbody');
  const summary = h('p', { class: 'summary', id: 'queue-summary', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', id: 'load-more', hidden: true }, 'Load more');
  const live = h('span', { class: 'live', id: 'live-state' }, 'connecting…');
  const message = h('p', { class: 'notice', role: 'status' });
  const toolbar = h('div', { class: 'toolbar' });
  const filters = h('div', { class: 'filters' });

  const open = (alert) => {
    location.hash = `#/alert/${encodeURIComponent(alert.id)}`;
  };

  const drawRows = () => {
    replace(
      rows,
      shown.map((a, i) =>
        h(
          'tr',
          {
            class: [i === selected ? 'selected' : '', fresh.has(a.id) ? 'fresh' : ''].join(' ').trim(),
            dataset: { alertId: a.id, severity: a.severity, status: a.status },
            'aria-selected': i === selected ? 'true' : 'false',
            onclick: () => open(a),
          },
          h('td', {}, severityBadge(a.severity)),
          h('td', {}, h('a', { href: `#/alert/${encodeURIComponent(a.id)}` }, label(a.kind))),
          h('td', { class: 'explanation' }, fresh.has(a.id) ? h('span', { class: 'badge new' }, 'New') : null, ' ', a.explanation),
          h('td', {}, [...new Set(a.records.map((r) => r.registry))].join(', ')),
          h('td', {}, h('span', { class: `status status-${a.status.toLowerCase()}` }, label(a.status))),
          h('td', {}, a.assignee ?? ''),
          h('td', { class: 'when' }, when(a.lastSeen)),
        ),
      ),
    );
    if (!shown.length) {
      rows.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No alert matches these filters.')));
    }
    more.hidden = !page?.pageInfo.hasNextPage;
    summary.textContent = `${counts.total} alert${counts.total === 1 ? '' : 's'}, ${shown.length} shown`;
  };

  const drawFilters = () => {
    const byStatus = counts.byStatus;
    const sum = (statuses) =>
      statuses.length
        ? statuses.reduce((n, s) => n + countOf(byStatus, s.toLowerCase()), 0)
        : byStatus.reduce((n, f) => n + f.count, 0);
    replace(
      toolbar,
      h(
        'div',
        { class: 'groups', role: 'tablist' },
        GROUPS.map((g) =>
          h(
            'button',
            {
              type: 'button',
              role: 'tab',
              id: `group-${g.id}`,
              class: g.id === c.group ? 'current' : '',
              'aria-selected': g.id === c.group ? 'true' : 'false',
              onclick: () => go(c, { group: g.id }),
            },
            g.title,
            ' ',
            h('span', { class: 'count' }, String(sum(g.statuses))),
          ),
        ),
      ),
      h(
        'div',
        { class: 'downloads' },
        h('button', { type: 'button', id: 'download-csv', onclick: () => save('/exports/alerts.csv') }, 'Download CSV'),
        h('button', { type: 'button', id: 'download-jsonl', onclick: () => save('/exports/alerts.jsonl') }, 'Download JSONL'),
      ),
    );
    const info = countOf(counts.bySeverity, 'info');
    replace(
      filters,
      select(
        'filter-severity',
        'Severity',
        c.severity,
        SEVERITIES.map((s) => ({ value: s, text: label(s), count: countOf(counts.bySeverity, s.toLowerCase()) })),
        (v) => go(c, { severity: v }),
      ),
      select(
        'filter-kind',
        'Kind',
        c.kind,
        counts.byKind.map((f) => ({ value: f.value, text: label(f.value), count: f.count })),
        (v) => go(c, { kind: v }),
      ),
      select(
        'filter-registry',
        'Registry',
        c.registry,
        counts.byRegistry.map((f) => ({ value: f.value, text: f.value, count: f.count })),
        (v) => go(c, { registry: v }),
      ),
      select(
        'filter-assignee',
        'Assignee',
        c.assignee,
        counts.byAssignee.map((f) => ({ value: f.value, text: f.value, count: f.count })),
        (v) => go(c, { assignee: v }),
      ),
      h(
        'label',
        { class: 'filter toggle' },
        h('input', {
          type: 'checkbox',
          id: 'show-informational',
          checked: c.info,
          disabled: Boolean(c.severity),
          onchange: (e) => go(c, { info: e.target.checked }),
        }),
        ` Show informational (${info})`,
      ),
    );
  };

  const save = async (path) => {
    try {
      const name = await download(path);
      message.textContent = `Saved ${name}.`;
    } catch (error) {
      message.textContent = `Download failed: ${error.message}`;
    }
  };

  const load = async (first, after) => {
    const data = await gql(QUERY, { filter, first, after });
    counts = data.alertCounts;
    page = data.alerts;
    return data.alerts.nodes;
  };

  more.addEventListener('click', async () => {
    shown = shown.concat(await load(PAGE, page.pageInfo.endCursor));
    drawRows();
  });

  // On any change anywhere, the shown part of the queue is read again; alerts not shown
  // before are marked new.
  let pending = null;
  const refresh = () => {
    clearTimeout(pending);
    pending = setTimeout(async () => {
      const before = new Set(shown.map((a) => a.id));
      const current = shown[selected]?.id;
      shown = await load(Math.max(PAGE, shown.length), null);
      for (const a of shown) if (!before.has(a.id)) fresh.add(a.id);
      selected = Math.max(0, shown.findIndex((a) => a.id === current));
      drawFilters();
      drawRows();
    }, 250);
  };

  const onKey = (event) => {
    if (event.target.closest?.('input, select, textarea, button') || event.altKey || event.ctrlKey || event.metaKey) return;
    const last = shown.length - 1;
    if (event.key === 'j' || event.key === 'ArrowDown') selected = Math.min(last, selected + 1);
    else if (event.key === 'k' || event.key === 'ArrowUp') selected = Math.max(0, selected - 1);
    else if (event.key === 'Enter' && shown[selected]) return open(shown[selected]);
    else return;
    event.preventDefault();
    drawRows();
    rows.children[selected]?.scrollIntoView({ block: 'nearest' });
  };

  shown = await load(PAGE, null);
  replace(
    view,
    h('div', { class: 'heading' }, h('h1', {}, 'Alerts'), live),
    toolbar,
    filters,
    summary,
    message,
    h(
      'table',
      { class: 'queue', id: 'queue' },
      h(
        'thead',
        {},
        h('tr', {}, ['Severity', 'Kind', 'What', 'Registries', 'Status', 'Assignee', 'Last seen'].map((t) => h('th', {}, t))),
      ),
      rows,
    ),
    more,
    h('p', { class: 'muted keys' }, 'Keys: j / ↓ next, k / ↑ previous, Enter opens.'),
  );
  drawFilters();
  drawRows();
  performance.mark('carbonmesh:queue-rendered');
  document.addEventListener('keydown', onKey);
  const stop = subscribe('subscription { alertChanged { id } }', {}, refresh, (state) => {
    live.textContent = state === 'live' ? '● live' : 'reconnecting…';
    live.dataset.state = state;
  });
  return () => {
    stop();
    clearTimeout(pending);
    document.removeEventListener('keydown', onKey);
  };
}
