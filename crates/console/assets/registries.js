// The registries: how fresh carbonmesh's copy of each is, when its connector runs next,
// and what its last runs rejected, so a reviewer knows how far to trust the evidence.

import { gql } from './api.js';
import { h, replace } from './dom.js';
import { duration, label, relative, units, when } from './format.js';

const QUERY = `{
  registries {
    id projects creditRecords lastWrite lastSuccessfulRun lagSeconds schedule nextRun
    overdueAlert { id explanation }
    recentRuns { id status trigger startedAt finishedAt seen new changed unchanged rejected errors }
  }
}`;

const REJECTED = `query Rejected($connector: String) {
  rejectedRecords(connector: $connector, first: 20) {
    edges { node { source line field reason seenCount lastSeenAt } }
  }
}`;

function freshness(r) {
  if (r.overdueAlert) {
    return h('a', { class: 'badge severity-high', href: `#/alert/${encodeURIComponent(r.overdueAlert.id)}` }, 'Overdue');
  }
  if (!r.lastSuccessfulRun) return h('span', { class: 'badge muted' }, 'No complete run');
  return h('span', { class: 'badge fresh-ok' }, 'On schedule');
}

function lastRun(run) {
  if (!run) return '';
  return h(
    'span',
    {},
    `${label(run.status)} ${when(run.finishedAt ?? run.startedAt)}: ${units(run.seen)} seen, ${units(run.new)} new, `,
    `${units(run.changed)} changed, ${units(run.rejected)} rejected`,
    run.errors.length ? h('span', { class: 'error' }, ` · ${run.errors[0]}`) : null,
  );
}

function rejectedList(r, viewer) {
  if (viewer.role === 'observer') {
    return h('p', { class: 'muted' }, 'Rejected records’ reasons need a reviewer key.');
  }
  const list = h('div', { class: 'rejected' });
  const details = h(
    'details',
    {
      ontoggle: async () => {
        if (!details.open || list.childElementCount) return;
        try {
          const data = await gql(REJECTED, { connector: r.id });
          const rows = data.rejectedRecords.edges.map((e) => e.node);
          replace(
            list,
            rows.length
              ? h(
                  'table',
                  {},
                  h('thead', {}, h('tr', {}, ['Source', 'Field', 'Reason', 'Seen', 'Last seen'].map((t) => h('th', {}, t)))),
                  h(
                    'tbody',
                    {},
                    rows.map((x) =>
                      h(
                        'tr',
                        {},
                        h('td', {}, x.line != null ? `${x.source}:${x.line}` : x.source),
                        h('td', {}, x.field ?? ''),
                        h('td', {}, x.reason),
                        h('td', {}, String(x.seenCount)),
                        h('td', {}, when(x.lastSeenAt)),
                      ),
                    ),
                  ),
                )
              : h('p', { class: 'muted' }, 'No rejected records.'),
          );
        } catch (error) {
          replace(list, h('p', { class: 'error' }, error.message));
        }
      },
    },
    h('summary', {}, 'Rejected records'),
    list,
  );
  return details;
}

export async function showRegistries({ view, viewer }) {
  const data = await gql(QUERY);
  replace(
    view,
    h('h1', {}, 'Registries'),
    h('p', { class: 'muted' }, 'How fresh the evidence is: each registry’s last complete run, its schedule here, and what was rejected.'),
    h(
      'table',
      { class: 'registries', id: 'registries' },
      h(
        'thead',
        {},
        h('tr', {}, ['Registry', 'Freshness', 'Credit records', 'Projects', 'Last complete run', 'Schedule', 'Next run', 'Last run'].map((t) => h('th', {}, t))),
      ),
      h(
        'tbody',
        {},
        data.registries.map((r) => [
          h(
            'tr',
            { dataset: { registry: r.id } },
            h('th', { scope: 'row' }, r.id),
            h('td', {}, freshness(r)),
            h('td', {}, units(r.creditRecords)),
            h('td', {}, units(r.projects)),
            h('td', {}, r.lastSuccessfulRun ? `${when(r.lastSuccessfulRun)} (${duration(r.lagSeconds)} ago)` : 'never'),
            h('td', {}, r.schedule ? h('code', {}, r.schedule) : 'not run here'),
            h('td', { class: 'next-run' }, r.nextRun ? `${when(r.nextRun)} (${relative(r.nextRun)})` : ''),
            h('td', {}, lastRun(r.recentRuns[0])),
          ),
          h('tr', { class: 'detail' }, h('td', { colspan: 8 }, r.overdueAlert ? h('p', { class: 'error' }, r.overdueAlert.explanation) : null, rejectedList(r, viewer))),
        ]),
      ),
    ),
  );
  return () => {};
}
