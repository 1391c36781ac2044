// One alert: the explanation in plain words, every record of the evidence side by side
// with its facts, the serial ranges on one axis with the overlap marked, the review
// history as a timeline, and the review steps the signed-in key may take.

import { gql, subscribe } from './api.js';
import { external, h, replace, s } from './dom.js';
import { label, units, when } from './format.js';

const CREDIT = `registry projectId registryUrl quantity vintage eventDate account beneficiary
  reason note serial transactionType { value raw } status { value raw }
  project { name registryProjectId registryUrl country }`;

const QUERY = `query Alert($id: String!) {
  alert(id: $id) {
    id kind severity status explanation assignee firstSeen lastSeen overlapUnits
    overlap { namespace start end units }
    availableActions
    pendingDecision { actor actorKey at decision reason note }
    records {
      registry recordKey version serial
      range { namespace start end units }
      evidenceVersion { version source recordedAt }
      evidencedCredit { ${CREDIT} }
      project { id name registryProjectId registryUrl country developer }
    }
    history { actor channel at fromStatus toStatus decision reason note }
  }
  dismissalReasons
}`;

// Each review step: its button, the mutation it runs and what its form asks.
const STEPS = {
  ACKNOWLEDGE: { title: 'Acknowledge', field: 'acknowledgeAlert' },
  START_REVIEW: { title: 'Start review', field: 'startAlertReview' },
  ESCALATE: { title: 'Escalate', field: 'escalateAlert' },
  CONFIRM: { title: 'Confirm double counting', field: 'confirmAlert' },
  DISMISS: { title: 'Dismiss', field: 'dismissAlert', reason: true, noteRequired: true },
  REOPEN: { title: 'Reopen', field: 'reopenAlert' },
  ASSIGN: { title: 'Assign', field: 'assignAlert', assignee: true },
  COMMENT: { title: 'Comment', field: 'commentOnAlert', noteRequired: true },
};

function mutationOf(step) {
  const params = ['$id: String!', `$note: String${step.noteRequired ? '!' : ''}`];
  const args = ['id: $id', 'note: $note'];
  if (step.reason) {
    params.push('$reason: String!');
    args.push('reason: $reason');
  }
  if (step.assignee) {
    params.push('$assignee: String!');
    args.push('assignee: $assignee');
  }
  return `mutation Step(${params.join(', ')}) { ${step.field}(${args.join(', ')}) { outcome alert { status } } }`;
}

// The facts a reviewer compares, one row each, for every record of the evidence.
const FACTS = [
  ['Registry', (r) => r.registry],
  ['Project', (r, c, p) => p?.name ?? ''],
  ['Project id', (r, c, p) => p?.registryProjectId ?? c?.projectId ?? ''],
  ['Country', (r, c, p) => p?.country ?? ''],
  ['Transaction', (r, c) => (c ? `${label(c.transactionType.value)} (“${c.transactionType.raw}”)` : '')],
  ['Quantity', (r, c) => (c ? units(c.quantity) : '')],
  ['Vintage', (r, c) => c?.vintage ?? ''],
  ['Event date', (r, c) => c?.eventDate ?? ''],
  ['Status', (r, c) => (c ? `${label(c.status.value)} (“${c.status.raw}”)` : '')],
  ['Account', (r, c) => c?.account ?? ''],
  ['Beneficiary', (r, c) => c?.beneficiary ?? ''],
  ['Reason', (r, c) => c?.reason ?? ''],
  ['Serial as published', (r) => r.serial ?? ''],
  ['Units', (r) => (r.range ? `${units(r.range.start)} – ${units(r.range.end)} (${units(r.range.units)})` : '')],
  ['Read from', (r) => (r.evidenceVersion ? r.evidenceVersion.source : 'no version kept')],
  ['Version', (r) => (r.evidenceVersion ? `${r.evidenceVersion.version} of ${when(r.evidenceVersion.recordedAt)}` : '')],
];

function evidence(alert) {
  const records = alert.records.map((r, i) => {
    const credit = r.evidencedCredit;
    const project = r.project ?? credit?.project ?? null;
    const link = credit?.registryUrl ?? project?.registryUrl ?? null;
    return { r, credit, project, link, title: `Record ${i + 1}` };
  });
  return h(
    'table',
    { class: 'evidence', id: 'evidence' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), records.map((x) => h('th', { scope: 'col' }, x.title)))),
    h(
      'tbody',
      {},
      FACTS.map(([name, fact]) =>
        h(
          'tr',
          { dataset: { fact: name } },
          h('th', { scope: 'row' }, name),
          records.map((x) => h('td', {}, String(fact(x.r, x.credit, x.project)))),
        ),
      ),
      h(
        'tr',
        { dataset: { fact: 'At the registry' } },
        h('th', { scope: 'row' }, 'At the registry'),
        records.map((x) => h('td', {}, x.link ? external(x.link, 'Open the registry’s page') : 'no public page')),
      ),
    ),
  );
}

// The records' serial ranges on one axis, the overlap shaded across them.
function overlapPicture(alert) {
  const ranged = alert.records.filter((r) => r.range);
  if (!ranged.length) return null;
  const starts = ranged.map((r) => Number(r.range.start));
  const ends = ranged.map((r) => Number(r.range.end));
  const low = Math.min(...starts);
  const high = Math.max(...ends);
  const width = 760;
  const left = 110;
  const right = 30;
  const row = 34;
  const top = 28;
  const height = top + ranged.length * row + 40;
  const span = Math.max(1, high - low + 1);
  const x = (n) => left + ((n - low) / span) * (width - left - right);
  const xEnd = (n) => x(n + 1);
  const parts = [];
  const overlap = alert.overlap;
  if (overlap) {
    const o0 = Number(overlap.start);
    const o1 = Number(overlap.end);
    parts.push(
      s(
        'rect',
        {
          class: 'overlap',
          id: 'overlap-band',
          x: x(o0),
          y: top - 8,
          width: Math.max(2, xEnd(o1) - x(o0)),
          height: ranged.length * row + 8,
          'data-start': overlap.start,
          'data-end': overlap.end,
        },
        s('title', {}, `Overlap ${overlap.start}–${overlap.end}`),
      ),
      // The label stays inside the picture: anchored at the band's nearer side.
      s(
        'text',
        {
          class: 'overlap-label',
          x: (x(o0) + xEnd(o1)) / 2 > width * 0.6 ? xEnd(o1) : x(o0),
          y: 16,
          'text-anchor': (x(o0) + xEnd(o1)) / 2 > width * 0.6 ? 'end' : 'start',
        },
        `overlap ${units(overlap.start)}–${units(overlap.end)} (${units(overlap.units)} units)`,
      ),
    );
  }
  ranged.forEach((r, i) => {
    const y = top + i * row;
    const start = Number(r.range.start);
    const end = Number(r.range.end);
    parts.push(
      s('text', { class: 'bar-label', x: 8, y: y + 17 }, `Record ${alert.records.indexOf(r) + 1}`),
      s(
        'rect',
        {
          class: `bar bar-${i}`,
          x: x(start),
          y,
          width: Math.max(2, xEnd(end) - x(start)),
          height: row - 12,
          rx: 3,
          'data-start': r.range.start,
          'data-end': r.range.end,
          'data-registry': r.registry,
        },
        s('title', {}, `${r.registry} ${r.range.start}–${r.range.end}`),
      ),
    );
  });
  const axisY = top + ranged.length * row + 6;
  parts.push(
    s('line', { class: 'axis', x1: left, x2: width - right, y1: axisY, y2: axisY }),
    s('text', { class: 'tick', x: left, y: axisY + 18, 'text-anchor': 'start' }, units(low)),
    s('text', { class: 'tick', x: width - right, y: axisY + 18, 'text-anchor': 'end' }, units(high)),
  );
  return h(
    'figure',
    { class: 'picture' },
    s(
      'svg',
      { id: 'overlap-picture', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Serial ranges on one axis' },
      parts,
    ),
    h('figcaption', {}, `Serial numbers of namespace ${ranged[0].range.namespace}; the shaded band is the overlap.`),
  );
}

function timeline(history) {
  return h(
    'ol',
    { class: 'timeline', id: 'timeline' },
    history.map((e) =>
      h(
        'li',
        { dataset: { actor: e.actor, to: e.toStatus ?? '' } },
        h('time', { datetime: e.at }, when(e.at)),
        ' ',
        h('strong', {}, e.actor),
        e.channel ? h('span', { class: 'muted' }, ` via ${e.channel}`) : null,
        ': ',
        e.toStatus ? (e.fromStatus ? `${label(e.fromStatus)} → ${label(e.toStatus)}` : `raised as ${label(e.toStatus)}`) : 'no status change',
        e.decision ? `, decision: ${label(e.decision).toLowerCase()}` : '',
        e.reason ? h('span', { class: 'reason' }, ` [${e.reason}]`) : null,
        e.note ? h('p', { class: 'note' }, e.note) : null,
      ),
    ),
  );
}

function fourEyes(alert, viewer) {
  const pending = alert.pendingDecision;
  if (alert.status === 'AWAITING_SECOND_REVIEW' && pending) {
    const mine = !alert.availableActions.includes('CONFIRM') && viewer.role !== 'observer';
    return h(
      'div',
      { class: 'four-eyes', id: 'four-eyes' },
      h('strong', {}, 'Awaiting a second reviewer. '),
      `${pending.actor} proposed to ${label(pending.decision).toLowerCase() === 'confirmed' ? 'confirm' : 'dismiss'} it`,
      pending.reason ? ` (${pending.reason})` : '',
      ` on ${when(pending.at)}. Another reviewer’s key must decide the same for it to stand.`,
      mine ? h('p', {}, 'You took the first decision, so another reviewer must take the second.') : null,
    );
  }
  if (alert.severity === 'CRITICAL' && !['CONFIRMED', 'DISMISSED', 'RESOLVED'].includes(alert.status)) {
    return h('div', { class: 'four-eyes', id: 'four-eyes' }, 'Critical: confirming or dismissing it takes two reviewers (four eyes).');
  }
  return null;
}

// `editing` tells the page whether a step's form is open, so a live update waits for it.
function actions(alert, reasons, viewer, done, editing) {
  if (viewer.role === 'observer' || !viewer.role) {
    return h('p', { class: 'muted', id: 'no-actions' }, 'Your key is an observer key: review steps need a reviewer key.');
  }
  const panel = h('div', { class: 'step-form' });
  const message = h('p', { class: 'notice', role: 'status', id: 'step-message' });
  const close = () => {
    replace(panel);
    editing(false);
  };
  const openForm = (action) => {
    editing(true);
    const step = STEPS[action];
    const note = h('textarea', { id: 'step-note', name: 'note', rows: 3, required: Boolean(step.noteRequired) });
    const reason = step.reason
      ? h('select', { id: 'step-reason', name: 'reason', required: true }, h('option', { value: '' }, 'Choose a reason'), reasons.map((r) => h('option', { value: r }, r)))
      : null;
    const assignee = step.assignee ? h('input', { id: 'step-assignee', name: 'assignee', required: true }) : null;
    replace(
      panel,
      h(
        'form',
        {
          id: 'step',
          onsubmit: async (event) => {
            event.preventDefault();
            const variables = { id: alert.id, note: note.value.trim() || null };
            if (reason) variables.reason = reason.value;
            if (assignee) variables.assignee = assignee.value.trim();
            try {
              const data = await gql(mutationOf(step), variables);
              const outcome = data[step.field].outcome;
              done(
                outcome === 'AWAITING_SECOND_REVIEWER'
                  ? 'Recorded. It now awaits a second reviewer.'
                  : `Done: ${label(data[step.field].alert.status)}.`,
              );
            } catch (error) {
              message.textContent = error.message;
            }
          },
        },
        h('h3', {}, step.title),
        reason ? h('label', { for: 'step-reason' }, 'Reason code') : null,
        reason,
        assignee ? h('label', { for: 'step-assignee' }, 'Reviewer') : null,
        assignee,
        h('label', { for: 'step-note' }, step.noteRequired ? 'Note (required)' : 'Note'),
        note,
        h('button', { type: 'submit', id: 'step-submit' }, step.title),
        ' ',
        h('button', { type: 'button', class: 'link', onclick: close }, 'Cancel'),
      ),
    );
    (reason ?? assignee ?? note).focus();
  };
  return h(
    'section',
    { class: 'actions', id: 'actions' },
    h('h2', {}, 'Review'),
    h(
      'div',
      { class: 'buttons' },
      alert.availableActions.map((a) =>
        h('button', { type: 'button', id: `action-${a.toLowerCase().replaceAll('_', '-')}`, onclick: () => openForm(a) }, STEPS[a].title),
      ),
    ),
    panel,
    message,
  );
}

export async function showAlert({ view, viewer }, id) {
  let notice = '';
  // While a reviewer writes a step, changes from elsewhere wait: redrawing would lose it.
  let writing = false;
  let changed = false;
  let drawn = 0;
  let shown = '';
  const draw = async () => {
    const mine = ++drawn;
    const data = await gql(QUERY, { id });
    // Only the latest answer is drawn, never over a step being written, and only when
    // something changed (the echo of this page's own step changes nothing).
    if (mine !== drawn) return;
    if (writing) {
      changed = true;
      return;
    }
    changed = false;
    const text = JSON.stringify(data) + notice;
    if (text === shown) return;
    shown = text;
    const alert = data.alert;
    if (!alert) {
      replace(view, h('p', { class: 'error', role: 'alert' }, `No alert ${id}.`));
      return;
    }
    replace(
      view,
      h('p', {}, h('a', { href: '#/queue' }, '← Alerts')),
      h(
        'div',
        { class: 'heading' },
        h('h1', { id: 'alert-title' }, label(alert.kind)),
        h('span', { class: `badge severity-${alert.severity.toLowerCase()}` }, label(alert.severity)),
        h('span', { class: `status status-${alert.status.toLowerCase()}`, id: 'alert-status' }, label(alert.status)),
      ),
      h('p', { class: 'explanation', id: 'explanation' }, alert.explanation),
      h(
        'p',
        { class: 'muted' },
        `First seen ${when(alert.firstSeen)} · last seen ${when(alert.lastSeen)}`,
        alert.assignee ? ` · assigned to ${alert.assignee}` : ' · unassigned',
        alert.overlapUnits != null ? ` · ${units(alert.overlapUnits)} units in the overlap` : '',
      ),
      notice ? h('p', { class: 'notice', role: 'status', id: 'step-done' }, notice) : null,
      fourEyes(alert, viewer),
      h('h2', {}, 'Evidence'),
      overlapPicture(alert),
      evidence(alert),
      actions(
        alert,
        data.dismissalReasons,
        viewer,
        async (text) => {
          notice = text;
          writing = false;
          await draw();
        },
        (open) => {
          writing = open;
          if (!open && changed) draw();
        },
      ),
      h('h2', {}, 'History'),
      timeline(alert.history),
    );
  };
  await draw();
  // Steps taken elsewhere (another reviewer, the matcher) show up here as they happen.
  return subscribe('subscription($id: String) { alertChanged(id: $id) { id } }', { id }, () => {
    if (writing) changed = true;
    else draw();
  });
}
